// Compiles contracts/src/*.sol with the pinned solc-js into <outdir>/<Name>.json ({abi, bytecode}); <outdir> is the
// first argument, by default omareview/devnet/artifacts (committed: the wheel ships them, so users need no solc).
// Deterministic: fixed compiler, optimizer settings, paris EVM (no PUSH0) and no metadata hash.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const solc = require("solc");
const here = path.dirname(new URL(import.meta.url).pathname);
const sources = Object.fromEntries(
  fs.readdirSync(path.join(here, "src")).filter((f) => f.endsWith(".sol")).map((f) => [f, { content: fs.readFileSync(path.join(here, "src", f), "utf8") }]),
);
const input = {
  language: "Solidity",
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "paris",
    metadata: { bytecodeHash: "none" },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const outdir = process.argv[2] ? path.resolve(process.argv[2]) : path.join(here, "..", "omareview", "devnet", "artifacts");
fs.mkdirSync(outdir, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, contract] of Object.entries(contracts)) {
    const artifact = { contractName: name, sourceName: `src/${file}`, compiler: solc.version(), abi: contract.abi, bytecode: "0x" + contract.evm.bytecode.object };
    fs.writeFileSync(path.join(outdir, `${name}.json`), JSON.stringify(artifact, null, 2) + "\n");
    console.log(`built ${name} (${contract.evm.bytecode.object.length / 2} bytes) with solc ${solc.version()}`);
  }
}
