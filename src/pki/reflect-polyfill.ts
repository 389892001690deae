// The smallest Reflect metadata API that @peculiar/x509 needs. Its dependency injection (tsyringe)
// refuses to load without `Reflect.getMetadata`, and no polyfill package (reflect-metadata, core-js)
// is among our dependencies. Only what tsyringe and tslib's __decorate/__metadata call is provided;
// an existing implementation (e.g. reflect-metadata loaded by someone else) is left untouched.

type Key = unknown;
type Target = object;

const store = new WeakMap<Target, Map<string | symbol | undefined, Map<Key, unknown>>>();

function table(target: Target, property: string | symbol | undefined, create: boolean): Map<Key, unknown> | undefined {
  let byProperty = store.get(target);
  if (!byProperty) {
    if (!create) return undefined;
    byProperty = new Map();
    store.set(target, byProperty);
  }
  let entries = byProperty.get(property);
  if (!entries && create) {
    entries = new Map();
    byProperty.set(property, entries);
  }
  return entries;
}

function getOwnMetadata(key: Key, target: Target, property?: string | symbol): unknown {
  return table(target, property, false)?.get(key);
}

function hasOwnMetadata(key: Key, target: Target, property?: string | symbol): boolean {
  return table(target, property, false)?.has(key) ?? false;
}

/** Walks the prototype chain like reflect-metadata does. */
function getMetadata(key: Key, target: Target, property?: string | symbol): unknown {
  for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
    if (hasOwnMetadata(key, t, property)) return getOwnMetadata(key, t, property);
  }
  return undefined;
}

function hasMetadata(key: Key, target: Target, property?: string | symbol): boolean {
  for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
    if (hasOwnMetadata(key, t, property)) return true;
  }
  return false;
}

function defineMetadata(key: Key, value: unknown, target: Target, property?: string | symbol): void {
  table(target, property, true)!.set(key, value);
}

/** Decorator factory used by TypeScript's emitted `__metadata("design:paramtypes", …)`. */
function metadata(key: Key, value: unknown) {
  return (target: Target, property?: string | symbol): void => defineMetadata(key, value, target, property);
}

const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect.getMetadata !== "function") {
  Object.assign(reflect, { getMetadata, getOwnMetadata, hasMetadata, hasOwnMetadata, defineMetadata, metadata });
}
