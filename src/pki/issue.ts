// Certificate issuance shared by the dev PKI (`trunkgate certs init`) and the test PKI helper:
// key generation (ECDSA P-256 or RSA-2048), CA / leaf certificates with the extensions a TLS stack
// checks, CRLs, PEM export. Keys are PKCS#8; signatures SHA-256 with the issuer's key type.
import { randomBytes, type webcrypto } from "node:crypto";
import { isIP } from "node:net";
import { subtle, x509 } from "./x509.js";

export type KeyKind = "ecdsa" | "rsa";
export type EkuName = "serverAuth" | "clientAuth";
type KeyPair = webcrypto.CryptoKeyPair;

export interface SubjectAltNames {
  dns?: string[];
  ip?: string[];
  uri?: string[];
  email?: string[];
}

/** A certificate with its key pair, as objects (to issue further certificates) and as PEM. */
export interface Issued {
  cert: x509.X509Certificate;
  keys: KeyPair;
  keyKind: KeyKind;
  certPem: string;
  keyPem: string;
  /** Lower-case hex, as in a CRL entry. */
  serialNumber: string;
}

export interface IssueOptions {
  /** Signer; omitted = self-signed with the new key. */
  issuer?: Issued;
  commonName: string;
  organization?: string;
  keyKind?: KeyKind;
  sans?: SubjectAltNames;
  /** Omitted = no extendedKeyUsage extension at all. */
  eku?: EkuName[];
  /** Makes a CA certificate (keyCertSign + cRLSign); pathLength limits the CAs below it. */
  ca?: { pathLength?: number };
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 86_400_000;

const ECDSA_KEYGEN = { name: "ECDSA", namedCurve: "P-256" } as const;
const RSA_KEYGEN = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
} as const;

const EKU_OID: Record<EkuName, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

export function addDays(from: Date, days: number): Date {
  return new Date(from.getTime() + days * DAY_MS);
}

/** 128 random bits, positive (top bit clear) and without a leading zero byte, as hex. */
export function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString("hex");
}

/** Host names become dNSName SANs, IPv4/IPv6 literals iPAddress SANs. */
export function sansForHosts(hosts: readonly string[]): SubjectAltNames {
  const sans: Required<Pick<SubjectAltNames, "dns" | "ip">> = { dns: [], ip: [] };
  for (const h of hosts) (isIP(h) ? sans.ip : sans.dns).push(h);
  return sans;
}

export async function generateKeys(kind: KeyKind): Promise<KeyPair> {
  return (await subtle.generateKey(kind === "rsa" ? RSA_KEYGEN : ECDSA_KEYGEN, true, ["sign", "verify"])) as KeyPair;
}

/** The signature algorithm a key of this kind signs with. */
function signingAlgorithm(kind: KeyKind): { name: string; hash: string } {
  return kind === "rsa" ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", hash: "SHA-256" };
}

function subjectName(cn: string, o: string | undefined): x509.JsonName {
  // A JSON name, not an "CN=…, O=…" string: no escaping issues with commas or '=' in values.
  return o === undefined ? [{ CN: [cn] }] : [{ O: [o] }, { CN: [cn] }];
}

function generalNames(sans: SubjectAltNames): x509.JsonGeneralName[] {
  return [
    ...(sans.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(sans.ip ?? []).map((value) => ({ type: "ip" as const, value })),
    ...(sans.uri ?? []).map((value) => ({ type: "url" as const, value })),
    ...(sans.email ?? []).map((value) => ({ type: "email" as const, value })),
  ];
}

export async function keyToPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY") + "\n";
}

export async function issueCertificate(opts: IssueOptions): Promise<Issued> {
  const keyKind = opts.keyKind ?? "ecdsa";
  const keys = await generateKeys(keyKind);
  const signer = opts.issuer ?? { keys, keyKind, cert: undefined };
  const notBefore = opts.notBefore ?? addDays(new Date(), -1 / 288); // 5 minutes back: clock skew
  const notAfter = opts.notAfter ?? addDays(notBefore, 825);
  const name = subjectName(opts.commonName, opts.organization);

  let keyUsage: number;
  if (opts.ca) keyUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
  else if (keyKind === "rsa") keyUsage = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment;
  else keyUsage = x509.KeyUsageFlags.digitalSignature;

  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(opts.ca !== undefined, opts.ca?.pathLength, true),
    new x509.KeyUsagesExtension(keyUsage, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (signer.cert) extensions.push(await x509.AuthorityKeyIdentifierExtension.create(signer.cert.publicKey));
  if (opts.eku && opts.eku.length > 0) {
    extensions.push(new x509.ExtendedKeyUsageExtension(opts.eku.map((e) => EKU_OID[e]), false));
  }
  const sanList = opts.sans ? generalNames(opts.sans) : [];
  if (sanList.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sanList, false));

  const serialNumber = randomSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: name,
    issuer: signer.cert ? signer.cert.subjectName : name,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: signer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(signer.keyKind),
    extensions,
  });
  return { cert, keys, keyKind, certPem: cert.toString("pem") + "\n", keyPem: await keyToPem(keys.privateKey), serialNumber };
}

export interface CrlOptions {
  issuer: Issued;
  revoked: { serialNumber: string; revocationDate?: Date }[];
  thisUpdate?: Date;
  nextUpdate?: Date;
}

/** A CRL (PEM) signed by the issuer, listing the given serials as key compromises. */
export async function createCrl(opts: CrlOptions): Promise<string> {
  const thisUpdate = opts.thisUpdate ?? addDays(new Date(), -1 / 24);
  const crl = await x509.X509CrlGenerator.create({
    issuer: opts.issuer.cert.subjectName,
    thisUpdate,
    nextUpdate: opts.nextUpdate ?? addDays(thisUpdate, 30),
    entries: opts.revoked.map((r) => ({
      serialNumber: r.serialNumber,
      revocationDate: r.revocationDate ?? thisUpdate,
      reason: x509.X509CrlReason.keyCompromise,
    })),
    extensions: [await x509.AuthorityKeyIdentifierExtension.create(opts.issuer.cert.publicKey)],
    signingKey: opts.issuer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(opts.issuer.keyKind),
  });
  // Not crl.toString("pem"): that labels the block "CRL", which OpenSSL (and so Node's TLS `crl`
  // option) does not read; the standard label is "X509 CRL".
  return x509.PemConverter.encode(crl.rawData, "X509 CRL") + "\n";
}
