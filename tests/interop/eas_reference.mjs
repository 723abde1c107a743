// Drives @ethereum-attestation-service/eas-sdk for omareview's interop tests and benchmarks.
// Usage: node eas_reference.mjs < request.json   (request: {"action": "decode" | "encode" | "attest" | "sign-delegated", ...})
import { createRequire } from "node:module";

const require = createRequire(new URL("../../contracts/package.json", import.meta.url));
const { EAS, SchemaEncoder } = require("@ethereum-attestation-service/eas-sdk");
const { ethers } = require("ethers");

const plain = (value) =>
  typeof value === "bigint" ? value.toString() : Array.isArray(value) ? value.map(plain) : value;

function decode({ schema, data }) {
  return new SchemaEncoder(schema).decodeData(data).map((item) => ({
    name: item.name,
    type: item.type,
    value: plain(item.value.value),
  }));
}

function encode({ schema, fields }) {
  return new SchemaEncoder(schema).encodeData(fields);
}

// Attest each review one by one, the way an eas-sdk user does: attest(), then wait() for the UID.
async function attest({ rpcUrl, easAddress, privateKey, schemaUid, schema, reviews }) {
  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  provider.pollingInterval = 20; // a local node mines at once; the 4 s default would measure sleeping, not eas-sdk
  const wallet = new ethers.NonceManager(new ethers.Wallet(privateKey, provider));
  const eas = new EAS(easAddress);
  eas.connect(wallet);
  const encoder = new SchemaEncoder(schema);
  const started = process.hrtime.bigint();
  const results = [];
  for (const review of reviews) {
    const tx = await eas.attest({
      schema: schemaUid,
      data: {
        recipient: review.recipient,
        expirationTime: 0n,
        revocable: false,
        refUID: ethers.ZeroHash,
        data: encoder.encodeData(review.fields),
        value: 0n,
      },
    });
    const uid = await tx.wait();
    results.push({ uid, gasUsed: tx.receipt ? tx.receipt.gasUsed.toString() : null });
  }
  return { results, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

// Sign a delegated attestation the way an OMATrust client does with eas-sdk: the EAS domain read from the
// contract, the attester's nonce from the chain; returns the signature (r ‖ s ‖ v) and the signed message.
async function signDelegated({ rpcUrl, easAddress, privateKey, request }) {
  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  const wallet = new ethers.Wallet(privateKey, provider);
  const eas = new EAS(easAddress);
  eas.connect(provider);
  const delegated = await eas.getDelegated();
  const nonce = await eas.getNonce(wallet.address);
  const signed = await delegated.signDelegatedAttestation(
    {
      schema: request.schema,
      recipient: request.recipient,
      expirationTime: 0n,
      revocable: false,
      refUID: ethers.ZeroHash,
      data: request.data,
      value: 0n,
      deadline: BigInt(request.deadline),
      nonce,
      attester: wallet.address,
    },
    wallet,
  );
  const { r, s, v } = signed.signature;
  return {
    attester: wallet.address,
    signature: ethers.concat([r, s, ethers.toBeHex(v, 1)]),
    nonce: nonce.toString(),
    domain: Object.fromEntries(Object.entries(signed.domain).map(([key, value]) => [key, plain(value)])),
  };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const actions = { decode, encode, attest, "sign-delegated": signDelegated };
process.stdout.write(JSON.stringify(await actions[request.action](request)));
