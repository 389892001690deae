// Every leaf key of a zod (v4) schema as a dotted path, arrays of objects as `name[]`: what the
// README's configuration table must document. Wrappers (default, prefault, optional, nullable,
// pipe) are looked through; unions and scalars are leaves.
import type { z } from "zod";

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

export function schemaLeafKeys(schema: z.ZodType, prefix = ""): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
    case "readonly":
      return schemaLeafKeys(def.innerType!, prefix);
    case "pipe":
      return schemaLeafKeys(def.in!, prefix);
    case "object":
      return Object.entries(def.shape!).flatMap(([k, v]) => schemaLeafKeys(v, prefix ? `${prefix}.${k}` : k));
    case "array": {
      const inner = schemaLeafKeys(def.element!, `${prefix}[]`);
      // An array of scalars is itself the leaf.
      return inner.length === 1 && inner[0] === `${prefix}[]` ? [prefix] : inner;
    }
    default:
      return [prefix];
  }
}
