// The one way into @peculiar/x509: import it from here, never directly, so the Reflect polyfill is
// evaluated before the library (ES modules run imports in order) and the library signs with
// Node's WebCrypto. Used to *create* certificates and CRLs; reading them is done with Node's own
// crypto.X509Certificate.
import "./reflect-polyfill.js";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

// The library is typed against the DOM `Crypto`, which our Node-only lib settings do not declare.
x509.cryptoProvider.set(webcrypto as never);

export { x509 };
export const subtle = webcrypto.subtle;
