// Single sign-on: the OpenID Connect authorization-code flow with PKCE (RFC 7636, S256), run in
// this page as a public client; the gateway holds no secret and no session. Configured by the
// gateway as data-oidc-* attributes of #app (gateway/console_sign_on.py); absent, the console
// signs in with API keys only.
//
// One attempt: a fresh code_verifier, state and nonce, kept in this tab's sessionStorage; off
// to the issuer's authorization_endpoint (from its discovery document); back at this page (the
// redirect URI: the console's own URL, no query, no fragment) with ?code&state; the state must
// be this attempt's, the code is exchanged at the token_endpoint with the verifier, and the ID
// token must carry this attempt's nonce. The token the gateway checks (data-oidc-token) is then
// the bearer of every call, in the same sessionStorage slot as an API key.

import { storeKey } from "./api.js";

const PENDING_ITEM = "rq-gateway.oidc-pending";
const METHOD_ITEM = "rq-gateway.signed-in-with";

const data = document.getElementById("app").dataset;
export const signOn = data.oidcIssuer
  ? { issuer: data.oidcIssuer, clientId: data.oidcClientId, scopes: data.oidcScopes, token: data.oidcToken, name: new URL(data.oidcIssuer).host }
  : null;

export class SignInError extends Error {}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

function random() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

function redirectUri() {
  const url = new URL(document.baseURI);
  url.search = "";
  url.hash = "";
  return url.href;
}

async function discovery() {
  const url = `${signOn.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  let document_;
  try {
    document_ = await (await fetch(url, { headers: { Accept: "application/json" } })).json();
  } catch {
    throw new SignInError(`${signOn.name} could not be reached (its discovery document did not load). Try again, or sign in with an API key.`);
  }
  // A document naming another issuer would send the person, and the code, elsewhere.
  if (document_.issuer !== signOn.issuer) throw new SignInError(`${url} names another issuer (${document_.issuer}); the sign-in was stopped.`);
  return document_;
}

// Leaves the page for the issuer's sign-in; comes back through finishSignIn().
export async function startSignIn() {
  // Web Crypto, which computes the PKCE challenge, exists only in a secure context.
  if (!window.isSecureContext) throw new SignInError("Single sign-on needs the console served over HTTPS (or on localhost). Sign in with an API key.");
  const provider = await discovery();
  const attempt = { state: random(), verifier: random(), nonce: random(), returnTo: location.hash };
  sessionStorage.setItem(PENDING_ITEM, JSON.stringify(attempt));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(attempt.verifier)));
  const url = new URL(provider.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: signOn.clientId,
    redirect_uri: redirectUri(),
    scope: signOn.scopes,
    state: attempt.state,
    nonce: attempt.nonce,
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  location.assign(url.href);
}

function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(part), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
}

// On the issuer's redirect back: true once signed in, false when this page load is no redirect.
// Throws SignInError, with what went wrong, when the answer cannot be used.
export async function finishSignIn() {
  const answer = new URLSearchParams(location.search);
  if (!signOn || !(answer.has("code") || answer.has("error"))) return false;
  const attempt = JSON.parse(sessionStorage.getItem(PENDING_ITEM) || "null");
  sessionStorage.removeItem(PENDING_ITEM); // one answer per attempt
  // The code must not stay in the address bar, the history or a bookmark.
  history.replaceState(null, "", redirectUri() + ((attempt && attempt.returnTo) || ""));
  if (answer.has("error")) throw new SignInError(`${signOn.name} did not sign you in: ${answer.get("error_description") || answer.get("error")}.`);
  if (!attempt || answer.get("state") !== attempt.state) {
    throw new SignInError("That sign-in answer does not belong to a sign-in started in this tab (its state does not match), so it was ignored. Sign in again.");
  }
  const provider = await discovery();
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code: answer.get("code"),
    redirect_uri: redirectUri(),
    client_id: signOn.clientId,
    code_verifier: attempt.verifier,
  });
  let response, tokens;
  try {
    response = await fetch(provider.token_endpoint, { method: "POST", body, headers: { Accept: "application/json" } });
    tokens = await response.json();
  } catch {
    throw new SignInError(`${signOn.name} did not answer the token request. Sign in again.`);
  }
  if (!response.ok) throw new SignInError(`${signOn.name} refused to issue a token: ${tokens.error_description || tokens.error || response.status}. Sign in again.`);
  if (claimsOf(tokens.id_token || "").nonce !== attempt.nonce) throw new SignInError("The ID token was not issued for this sign-in (its nonce does not match). Sign in again.");
  if (!tokens[signOn.token]) throw new SignInError(`${signOn.name} sent no ${signOn.token}, which this gateway checks. Ask an admin to check --oidc-audience.`);
  storeKey(tokens[signOn.token]);
  sessionStorage.setItem(METHOD_ITEM, "oidc");
  return true;
}

export function signedInWithSso() {
  return sessionStorage.getItem(METHOD_ITEM) === "oidc";
}

export function forgetSso() {
  sessionStorage.removeItem(METHOD_ITEM);
}
