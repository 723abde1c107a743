// The OMATrust SDK's read algorithm (listAttestations): eth_getLogs for Attested filtered by recipient,
// then one EAS.getAttestation per log, then decode with the schema. Written with ethers, as the SDK is.
// Usage: node omatrust_reference.mjs < request.json
import { createRequire } from "node:module";

const require = createRequire(new URL("../../contracts/package.json", import.meta.url));
const { ethers } = require("ethers");
const { SchemaEncoder } = require("@ethereum-attestation-service/eas-sdk");

const ATTESTED = ethers.id("Attested(address,address,bytes32,bytes32)");
const EAS_ABI = [
  "function getAttestation(bytes32 uid) view returns (tuple(bytes32 uid, bytes32 schema, uint64 time, uint64 expirationTime, uint64 revocationTime, bytes32 refUID, address recipient, address attester, bool revocable, bytes data))",
];

async function listReviews({ rpcUrl, easAddress, recipient, schemaUid, schema, fromBlock }) {
  const started = process.hrtime.bigint();
  const provider = new ethers.JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 });
  const eas = new ethers.Contract(easAddress, EAS_ABI, provider);
  const logs = await provider.getLogs({
    address: easAddress,
    fromBlock,
    toBlock: "latest",
    topics: [ATTESTED, ethers.zeroPadValue(recipient, 32)],
  });
  const encoder = new SchemaEncoder(schema);
  const reviews = [];
  for (const log of logs) {
    const uid = ethers.dataSlice(log.data, 0, 32);
    const attestation = await eas.getAttestation(uid);
    if (attestation.schema.toLowerCase() !== schemaUid.toLowerCase()) continue;
    const fields = Object.fromEntries(encoder.decodeData(attestation.data).map((f) => [f.name, f.value.value]));
    reviews.push({ uid, attester: attestation.attester, time: Number(attestation.time), rating: Number(fields.ratingValue) });
  }
  reviews.sort((a, b) => b.time - a.time);
  return { count: reviews.length, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
process.stdout.write(JSON.stringify(await listReviews(request)));
