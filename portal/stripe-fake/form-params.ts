/**
 * Stripe's request encoding: `application/x-www-form-urlencoded` with bracket
 * paths (`line_items[0][price]=price_1`, `expand[]=x`) and every value a string.
 * The SDK sends brackets unescaped in bodies and escaped in some query strings.
 */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

function decode(part: string): string {
  return decodeURIComponent(part.replace(/\+/g, ' '));
}

function pathOf(key: string): string[] {
  const first = key.indexOf('[');
  if (first === -1) return [key];
  const segments = [key.slice(0, first)];
  for (const match of key.slice(first).matchAll(/\[([^\]]*)\]/g)) segments.push(match[1] ?? '');
  return segments;
}

function assign(target: FormObject, segments: string[], value: string): void {
  let node: FormObject = target;
  for (let i = 0; i < segments.length; i += 1) {
    let segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '') segment = String(Object.keys(node).length);
    if (last) {
      node[segment] = value;
      return;
    }
    const next = node[segment];
    if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      node = next;
    } else {
      const created: FormObject = {};
      node[segment] = created;
      node = created;
    }
  }
}

/** Objects whose keys are exactly 0..n-1 were arrays on the client. */
function arraysFromIndexes(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormObject = {};
  for (const key of keys) converted[key] = arraysFromIndexes(value[key]!);
  const isList = keys.length > 0 && keys.every((key, index) => key === String(index));
  return isList ? keys.map((key) => converted[key]!) : converted;
}

export function parseStripeForm(text: string): FormObject {
  const root: FormObject = {};
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    assign(root, pathOf(key), value);
  }
  return arraysFromIndexes(root) as FormObject;
}
