// PEM helpers and the error type for unusable TLS material (it names the config key at fault).

export class TlsMaterialError extends Error {
  constructor(readonly key: string, detail: string) {
    super(`${key}: ${detail}`);
    this.name = "TlsMaterialError";
  }
}

/** Every `-----BEGIN <label>-----` block in text, in order. */
export function splitPem(text: string, label: string): string[] {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const out: string[] = [];
  let from = 0;
  for (;;) {
    const b = text.indexOf(begin, from);
    if (b < 0) return out;
    const e = text.indexOf(end, b);
    if (e < 0) return out;
    out.push(text.slice(b, e + end.length) + "\n");
    from = e + end.length;
  }
}
