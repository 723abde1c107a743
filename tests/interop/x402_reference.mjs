// Drives the TypeScript reference (@x402/extensions/offer-receipt) for omareview's interop tests.
// Usage: node x402_reference.mjs < request.json   (request: {"action": "sign" | "verify" | "bench", ...})
import { createRequire } from "node:module";
import crypto from "node:crypto";

const require = createRequire(new URL("../../contracts/package.json", import.meta.url));
const ref = require("@x402/extensions/offer-receipt");
const { privateKeyToAccount } = require("viem/accounts");
const { base58 } = require("@scure/base");

const ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const CURVES = { ES256K: "secp256k1", ES256: "prime256v1", EdDSA: null };
const MULTICODEC = { ES256K: [0xe7, 0x01], ES256: [0x80, 0x24], EdDSA: [0xed, 0x01] };

const b64u = (buf) => Buffer.from(buf).toString("base64url");

function didKey(alg, jwk) {
  let material;
  if (alg === "EdDSA") material = Buffer.from(jwk.x, "base64url");
  else {
    const x = Buffer.from(jwk.x, "base64url");
    const y = Buffer.from(jwk.y, "base64url");
    material = Buffer.concat([Buffer.from([y[y.length - 1] % 2 === 0 ? 2 : 3]), x]);
  }
  return "did:key:z" + base58.encode(Buffer.concat([Buffer.from(MULTICODEC[alg]), material]));
}

function didJwk(jwk) {
  const sorted = Object.fromEntries(Object.keys(jwk).sort().map((k) => [k, jwk[k]]));
  return "did:jwk:" + b64u(JSON.stringify(sorted));
}

function keyPair(alg) {
  return alg === "EdDSA"
    ? crypto.generateKeyPairSync("ed25519")
    : crypto.generateKeyPairSync("ec", { namedCurve: CURVES[alg] });
}

function jwsSigner(alg, kid, privateKey) {
  return {
    format: "jws",
    algorithm: alg,
    kid,
    sign: async (input) =>
      b64u(
        alg === "EdDSA"
          ? crypto.sign(null, input, privateKey)
          : crypto.sign("sha256", input, { key: privateKey, dsaEncoding: "ieee-p1363" }),
      ),
  };
}

async function sign(request) {
  const account = privateKeyToAccount(ANVIL_KEY);
  const signTypedData = (args) => account.signTypedData(args);
  const out = { eip712: { address: account.address }, jws: [] };
  out.eip712.receipt = await ref.createReceiptEIP712(request.receipt, signTypedData);
  out.eip712.offer = await ref.createOfferEIP712(request.resourceUrl, request.offer, signTypedData);
  for (const alg of ["ES256K", "ES256", "EdDSA"]) {
    for (const method of ["did:key", "did:jwk", "did:web"]) {
      const { publicKey, privateKey } = keyPair(alg);
      const { kty, crv, x, y } = publicKey.export({ format: "jwk" });
      const jwk = y === undefined ? { kty, crv, x } : { kty, crv, x, y };
      const kid =
        method === "did:key" ? `${didKey(alg, jwk)}#0`
        : method === "did:jwk" ? `${didJwk(jwk)}#0`
        : `did:web:${request.didWebHost}#${alg.toLowerCase()}-key`;
      const signer = jwsSigner(alg, kid, privateKey);
      out.jws.push({
        alg,
        method,
        kid,
        jwk,
        receipt: await ref.createReceiptJWS(request.receipt, signer),
        offer: await ref.createOfferJWS(request.resourceUrl, request.offer, signer),
      });
    }
  }
  return out;
}

async function verifyOne(item) {
  const { kind, envelope } = item;
  try {
    if (envelope.format === "eip712") {
      const result = kind === "receipt"
        ? await ref.verifyReceiptSignatureEIP712(envelope)
        : await ref.verifyOfferSignatureEIP712(envelope);
      return { ok: true, signer: result.signer, payload: result.payload };
    }
    const payload = kind === "receipt"
      ? await ref.verifyReceiptSignatureJWS(envelope)
      : await ref.verifyOfferSignatureJWS(envelope);
    return { ok: true, payload };
  } catch (error) {
    return { ok: false, error: String(error && error.message ? error.message : error) };
  }
}

async function signMany(request) {
  const account = privateKeyToAccount(ANVIL_KEY);
  const signTypedData = (args) => account.signTypedData(args);
  const envelopes = [];
  for (let i = 0; i < request.count; i++) {
    envelopes.push(
      await ref.createReceiptEIP712(
        { ...request.receipt, resourceUrl: `${request.receipt.resourceUrl}?n=${i}` },
        signTypedData,
      ),
    );
  }
  return envelopes;
}

// Verify every receipt in a file, the way a verifier process would: read, parse, recover each signer.
async function verifyFile(request) {
  const fs = await import("node:fs");
  const envelopes = JSON.parse(fs.readFileSync(request.path, "utf8"));
  const signers = [];
  for (const envelope of envelopes) signers.push((await ref.verifyReceiptSignatureEIP712(envelope)).signer);
  return { verified: signers.length, firstSigner: signers[0] };
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const actions = {
  sign,
  verify: async (r) => Promise.all(r.items.map(verifyOne)),
  "sign-many": signMany,
  "verify-file": verifyFile,
};
process.stdout.write(JSON.stringify(await actions[request.action](request)));
