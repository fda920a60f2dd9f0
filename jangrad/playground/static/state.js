// The page's one state object, kept in the URL's query string so that a reload or a shared link opens the page
// exactly where it was (as TensorFlow Playground keeps its state in the URL): the tab, the expression lab's program
// and inputs, the network lab's whole configuration, its pace, the loss chart's scale and the panels a teacher hid.
//
// A link is untrusted input: every value is checked against its field (a choice from a list, a number in range, a
// bounded text); one that does not fit is dropped, the field keeps its default and load() reports it in one line.

export const PANELS = ["settings", "diagram", "boundary", "loss", "sample", "optimizer"];
export const CONTROLS = ["data", "model", "training", "command", "presets"];

const MAX_TEXT = 2000;  // a longer program is left out of the URL rather than making it huge

export function choice(options, fallback) {
  return {default: fallback, read: (text) => {
    if (!options.includes(text)) throw new Error(`must be one of ${options.join(", ")}`);
    return text;
  }};
}

export function number(low, high, fallback, integer = false) {
  return {default: String(fallback), read: (text) => {
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) throw new Error("must be a number");
    if (integer && !Number.isInteger(value)) throw new Error("must be a whole number");
    if (value < low || value > high) throw new Error(`must be between ${low} and ${high}`);
    return text.trim();
  }};
}

export function text(fallback, pattern = null, most = MAX_TEXT) {
  return {default: fallback, read: (value) => {
    if (value.length > most) throw new Error(`is longer than ${most} characters`);
    if (pattern && !pattern.test(value)) throw new Error("has an unexpected form");
    return value;
  }};
}

export function list(allowed) {
  return {default: "", read: (value) => {
    const items = value.split(",").filter((item) => item);
    const unknown = items.filter((item) => !allowed.includes(item));
    if (unknown.length) throw new Error(`names unknown parts: ${unknown.join(", ").slice(0, 60)}`);
    return items.join(",");
  }};
}

export class PageState {
  // schema: {key: {default, read(text) -> text (or throws)}}
  constructor(schema) {
    this.schema = schema;
    this.values = {};
    for (const [key, field] of Object.entries(schema)) this.values[key] = field.default;
  }

  get(key) { return this.values[key]; }

  set(key, value) {
    if (!(key in this.schema)) throw new Error(`no such setting: ${key}`);
    this.values[key] = String(value);
  }

  // Reads a query string; returns one line per value that was refused (and left at its default).
  load(search) {
    const problems = [];
    const params = new URLSearchParams(search);
    for (const [key, field] of Object.entries(this.schema)) {
      if (!params.has(key)) continue;
      const raw = params.get(key);
      try {
        this.values[key] = field.read(raw);
      } catch (error) {
        problems.push(`the link's ${key} ${JSON.stringify(raw.slice(0, 40))} ${error.message}`);
      }
    }
    return problems;
  }

  // The query string of the whole state (a link made today opens the same page whatever the defaults become);
  // only an empty list of hidden parts and a text too long for a link are left out.
  query() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(this.values)) {
      if ((key === "hide" && !value) || value.length > MAX_TEXT) continue;
      params.set(key, value);
    }
    return params.toString();
  }

  save() {
    const query = this.query();
    history.replaceState(null, "", query ? `${location.pathname}?${query}` : location.pathname);
  }

  link() {
    const query = this.query();
    return `${location.origin}${location.pathname}${query ? `?${query}` : ""}`;
  }

  hidden(name) { return this.values.hide.split(",").includes(name); }

  setHidden(name, hide) {
    const names = new Set(this.values.hide.split(",").filter((item) => item));
    if (hide) names.add(name); else names.delete(name);
    this.values.hide = [...PANELS, ...CONTROLS].filter((item) => names.has(item)).join(",");
  }
}
