from tests.helpers import run_cli


def test_subject_of_the_issue_example() -> None:
    result = run_cli("subject", "https://WWW.Example.COM:8443/x?y=1", "--json")
    assert result.code == 0
    assert result.json() == {
        "input": "https://WWW.Example.COM:8443/x?y=1",
        "did": "did:web:example.com",
        "didHash": "0x505b0e657e7acabd2c14e517173a347faed486bb69081ef673c6e52c03f57f3e",
        "recipient": "0x173a347faed486bb69081ef673c6e52c03f57f3e",
    }
    human = run_cli("subject", "https://WWW.Example.COM:8443/x?y=1")
    assert human.stdout.splitlines()[0] == "did:web:example.com"
    assert "0x173a347faed486bb69081ef673c6e52c03f57f3e" in human.stdout


def test_several_inputs_give_json_lines() -> None:
    result = run_cli("subject", "--json", "api.example.com", "did:web:API.example.com")
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all('"did": "did:web:api.example.com"' in line for line in lines)


def test_bad_subject_is_one_line_exit_1() -> None:
    result = run_cli("subject", "did:")
    assert result.code == 1
    assert result.error_line == "error: 'did:' is not a DID: expected did:<method>:<identifier>"
    assert result.stdout == ""


def test_missing_argument_is_a_usage_error() -> None:
    result = run_cli("subject")
    assert result.code == 2
    assert "Missing argument" in result.error_line
