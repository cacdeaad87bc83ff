// A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests: Node's
// `oidc-provider` (pinned in .ci/node-tools) with the clients given in OIDC_PEER_CLIENTS (JSON).
// Its sign-in page asks only for an email address: a test (or a person in the browser journey)
// signs in as anyone, and consent is given at once. An address submitted with
// email_verified=false is claimed as not verified. Prints "READY <issuer>" once it listens.
import http from "node:http";
import { join } from "node:path";
import { parse } from "node:querystring";
import { pathToFileURL } from "node:url";

// ES modules ignore NODE_PATH: the package is imported from .ci/node's node_modules by path.
const modules = process.env.OIDC_PEER_NODE_MODULES;
const entry = join(modules, "oidc-provider", "lib", "index.js");
const { default: Provider } = await import(pathToFileURL(entry).href);

const clients = JSON.parse(process.env.OIDC_PEER_CLIENTS || "[]");

function account(accountId) {
  const unverified = accountId.startsWith("unverified:");
  const email = unverified ? accountId.slice("unverified:".length) : accountId;
  return {
    accountId,
    async claims() {
      return { sub: accountId, email, email_verified: !unverified, name: email.split("@")[0] };
    },
  };
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(parse(Buffer.concat(chunks).toString())));
    req.on("error", reject);
  });
}

async function finish(provider, req, res, accountId) {
  const details = await provider.interactionDetails(req, res);
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === "POST") {
    const form = await readBody(req);
    const email = String(form.email || "").trim().toLowerCase();
    const accountId = form.email_verified === "false" ? `unverified:${email}` : email;
    return finish(provider, req, res, accountId);
  }
  if (details.prompt.name === "consent" && details.session) {
    return finish(provider, req, res, details.session.accountId);
  }
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="en"><head><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>
<form method="post" action="/interaction/${escape(details.uid)}">
<label for="email">Email</label> <input id="email" name="email" type="email" required>
<button type="submit">Sign in to the identity provider</button></form></body></html>`);
}

const server = http.createServer();
server.listen(0, "127.0.0.1", () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients,
    findAccount: async (ctx, id) => account(id),
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    scopes: ["openid", "email", "profile"],
    interactions: { url: (ctx, details) => `/interaction/${details.uid}` },
    features: { devInteractions: { enabled: false } },
    cookies: { keys: ["orgconnectors-test-only"] },
  });
  const callback = provider.callback();
  server.on("request", (req, res) => {
    if (req.url.startsWith("/interaction/")) {
      interaction(provider, req, res).catch((error) => {
        res.writeHead(500, { "Content-Type": "text/plain" });
        res.end(String(error && error.stack));
      });
    } else {
      callback(req, res);
    }
  });
  console.log(`READY ${issuer}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
