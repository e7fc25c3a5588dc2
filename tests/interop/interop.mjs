// Sign and verify Data Integrity EdDSA proofs with the Digital Bazaar reference
// implementation, fully offline. Driven by tests/test_interop_js.py; see README.md.
//
//   node interop.mjs verify CONTEXTS.json REQUEST.json
//     REQUEST: {"cryptosuite": "eddsa-rdfc-2022" | "eddsa-jcs-2022", "document": {...}}
//     stdout:  {"verified": true | false, "errors": ["..."]}
//     exit:    0 verified, 1 not verified
//
//   node interop.mjs sign CONTEXTS.json REQUEST.json
//     REQUEST: {"cryptosuite": ..., "document": {...}, "created": "2025-10-01T00:00:00Z",
//               "setIssuer": true}   (setIssuer: make the new did:key the issuer)
//     stdout:  {"signed": {...}, "didDocument": {...}, "verificationMethod": "did:key:…#…"}
//     exit:    0
//
// CONTEXTS.json maps each context URL to a file ({"https://…": "/path/ctx.jsonld"}).
// The document loader serves only those files and did:key DIDs (derived from the
// identifier itself); any other URL is refused. Exit 2 means a usage or internal error.

import {readFileSync} from 'node:fs';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';
import {cryptosuite as rdfcCryptosuite} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {
  createSignCryptosuite as jcsSignCryptosuite,
  createVerifyCryptosuite as jcsVerifyCryptosuite,
} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import jsigs from 'jsonld-signatures';

// Belt and braces: nothing in here may reach the network.
globalThis.fetch = async url => {
  throw new Error(`network access refused: ${url}`);
};

const {purposes: {AssertionProofPurpose}} = jsigs;

const didKeyDriver = didKeyDriverFactory();
didKeyDriver.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

const CRYPTOSUITES = {
  'eddsa-rdfc-2022': {sign: () => rdfcCryptosuite, verify: () => rdfcCryptosuite},
  'eddsa-jcs-2022': {sign: jcsSignCryptosuite, verify: jcsVerifyCryptosuite},
};

function makeDocumentLoader(contextFiles) {
  const contexts = new Map();
  for(const [url, path] of Object.entries(contextFiles)) {
    contexts.set(url, JSON.parse(readFileSync(path, 'utf8')));
  }
  return async url => {
    if(contexts.has(url)) {
      return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
    }
    if(url.startsWith('did:key:')) {
      // did:key is resolved from the identifier alone; no I/O.
      return {contextUrl: null, documentUrl: url, document: await didKeyDriver.get({url})};
    }
    throw new Error(`offline document loader: refused ${url}`);
  };
}

function cryptosuiteFor(name, role) {
  const entry = CRYPTOSUITES[name];
  if(!entry) {
    throw new Error(`unsupported cryptosuite ${JSON.stringify(name)}`);
  }
  return entry[role]();
}

// Flatten an error (and the errors and causes nested in it) into messages.
function messages(error) {
  if(!error) {
    return [];
  }
  if(Array.isArray(error.errors) && error.errors.length) {
    return error.errors.flatMap(messages);
  }
  const own = error.message ? [`${error.name ?? 'Error'}: ${error.message}`] : [String(error)];
  return [...own, ...messages(error.details?.cause ?? error.cause)];
}

async function verify(request, documentLoader) {
  const suite = new DataIntegrityProof({cryptosuite: cryptosuiteFor(request.cryptosuite, 'verify')});
  const result = await jsigs.verify(request.document, {
    suite,
    purpose: new AssertionProofPurpose(),
    documentLoader,
  });
  const errors = messages(result.error);
  for(const proofResult of result.results ?? []) {
    if(!proofResult.verified) {
      errors.push(...messages(proofResult.error));
    }
  }
  const verified = result.verified === true;
  return {output: {verified, errors: [...new Set(errors)]}, code: verified ? 0 : 1};
}

async function sign(request, documentLoader) {
  const keyPair = await Ed25519Multikey.generate();
  const {didDocument} = await didKeyDriver.fromKeyPair({verificationKeyPair: keyPair});
  keyPair.controller = didDocument.id;
  keyPair.id = didDocument.assertionMethod[0];

  const document = structuredClone(request.document);
  if(request.setIssuer) {
    if(document.issuer !== null && typeof document.issuer === 'object') {
      document.issuer.id = didDocument.id;
    } else {
      document.issuer = didDocument.id;
    }
  }
  const suite = new DataIntegrityProof({
    signer: keyPair.signer(),
    cryptosuite: cryptosuiteFor(request.cryptosuite, 'sign'),
    date: request.created,
  });
  const signed = await jsigs.sign(document, {
    suite,
    purpose: new AssertionProofPurpose(),
    documentLoader,
  });
  return {output: {signed, didDocument, verificationMethod: keyPair.id}, code: 0};
}

const COMMANDS = {sign, verify};

async function main([command, contextsPath, requestPath]) {
  if(!COMMANDS[command] || !contextsPath || !requestPath) {
    process.stderr.write('usage: node interop.mjs sign|verify CONTEXTS.json REQUEST.json\n');
    return 2;
  }
  const documentLoader = makeDocumentLoader(JSON.parse(readFileSync(contextsPath, 'utf8')));
  const request = JSON.parse(readFileSync(requestPath, 'utf8'));
  const {output, code} = await COMMANDS[command](request, documentLoader);
  process.stdout.write(JSON.stringify(output) + '\n');
  return code;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch(error) {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exitCode = 2;
}
