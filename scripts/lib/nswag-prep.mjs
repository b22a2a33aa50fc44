// Reshapes an OpenAPI 3.1 document into what NSwag's C# generator understands, without changing what it describes:
// 1. `null` as a type (`type: [..., "null"]`, `{ type: "null" }` in oneOf/anyOf) becomes `nullable: true`;
// 2. a discriminated union (`oneOf` of objects that each pin one property to a single value, as zod's
//    discriminatedUnion emits it, or one with a `discriminator`) becomes a base class with that discriminator and one
//    subclass per variant: NSwag emits no type at all for a bare oneOf, yet still refers to it.
// Inline variants are hoisted into components (named <Union><Value>) first, so both named and inline unions work.

function stripNull(node) {
  if (Array.isArray(node)) return node.forEach(stripNull);
  if (!node || typeof node !== "object") return;
  for (const k of ["oneOf", "anyOf"]) {
    if (Array.isArray(node[k]) && node[k].some((s) => s && s.type === "null")) {
      node[k] = node[k].filter((s) => !(s && s.type === "null"));
      node.nullable = true;
      if (node[k].length === 1 && !node[k][0].$ref) {
        Object.assign(node, node[k][0]);
        delete node[k];
      }
    }
  }
  if (Array.isArray(node.type) && node.type.includes("null")) {
    node.type = node.type.filter((t) => t !== "null");
    node.nullable = true;
    if (node.type.length === 1) node.type = node.type[0];
  }
  if (node.type === "null") {
    delete node.type;
    node.nullable = true;
  }
  Object.values(node).forEach(stripNull);
}

const REF = "#/components/schemas/";
const refName = (s) => (s && typeof s.$ref === "string" && s.$ref.startsWith(REF) ? s.$ref.slice(REF.length) : null);
/** The single value a variant pins `prop` to, if it does. */
function pinned(schema, prop) {
  const p = schema?.properties?.[prop];
  if (!p) return undefined;
  if (p.const !== undefined) return p.const;
  return Array.isArray(p.enum) && p.enum.length === 1 ? p.enum[0] : undefined;
}
const pascal = (v) => String(v).replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c) => c.toUpperCase());

function reshapeUnion(schemas, name) {
  const s = schemas[name];
  const alts = s.oneOf ?? s.anyOf;
  if (!Array.isArray(alts) || alts.length === 0) return;
  const variants = alts.map((a) => [refName(a), refName(a) ? schemas[refName(a)] : a]);
  if (!variants.every(([, v]) => v && v.type === "object" && v.properties)) return;
  const prop =
    s.discriminator?.propertyName ??
    Object.keys(variants[0][1].properties).find((p) => variants.every(([, v]) => (v.required ?? []).includes(p) && pinned(v, p) !== undefined));
  if (!prop) return;
  const mapping = {};
  for (const [ref, v] of variants) {
    const value = pinned(v, prop);
    const variantName = ref ?? `${name}${pascal(value)}`;
    const props = { ...v.properties };
    delete props[prop];
    const required = (v.required ?? []).filter((r) => r !== prop);
    schemas[variantName] = {
      allOf: [{ $ref: `${REF}${name}` }, { type: "object", properties: props, ...(required.length ? { required } : {}) }],
    };
    mapping[value ?? variantName] = `${REF}${variantName}`;
  }
  schemas[name] = {
    type: "object",
    ...(s.description ? { description: s.description } : {}),
    required: [prop],
    properties: { [prop]: { type: "string" } },
    discriminator: { propertyName: prop, mapping },
    ...(s.nullable ? { nullable: true } : {}),
  };
}

export function prepareForNswag(document) {
  const doc = structuredClone(document);
  stripNull(doc);
  const schemas = doc.components?.schemas ?? {};
  for (const name of Object.keys(schemas)) reshapeUnion(schemas, name);
  return doc;
}
