// Starts Python in a Web Worker: Pyodide from the site's own pyodide/ folder, then jangrad and the wheels that
// jangrad-site.json lists, unpacked into site-packages. Nothing is fetched from anywhere but the site's origin.
// Shared by the engine worker (engine-worker.js) and the check worker (check-worker.js).

const SITE = new URL("../", import.meta.url);

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url.pathname} answered ${response.status}: is the site folder complete?`);
  return response.arrayBuffer();
}

export async function startPython() {
  const response = await fetch(new URL("jangrad-site.json", SITE), {cache: "no-cache"});
  if (!response.ok) throw new Error("jangrad-site.json is missing: serve the folder that `jangrad site` wrote");
  const manifest = await response.json();
  // The archives download while Pyodide starts; the hash in the URL makes a rebuilt file a new one for the cache.
  const archives = manifest.python.map(async (entry) => {
    const url = new URL(`${entry.path}?v=${entry.hash}`, SITE);
    return [entry, await fetchBytes(url)];
  });
  const {loadPyodide} = await import(new URL("pyodide/pyodide.mjs", SITE).href);
  const pyodide = await loadPyodide({
    indexURL: new URL("pyodide/", SITE).href,
    stdout: (line) => console.log(line),
    stderr: (line) => console.warn(line),
  });
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
  for (const [entry, bytes] of await Promise.all(archives)) {
    pyodide.unpackArchive(bytes, entry.format, {extractDir: sitePackages});
  }
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  const python = pyodide.runPython("import sys; sys.version.split()[0]");
  return {pyodide, manifest, versions: {jangrad: manifest.jangrad, pyodide: manifest.pyodide, python}};
}

// One line for the page from whatever a failed start threw.
export function reason(error) {
  const text = error && error.message ? error.message : String(error);
  return text.split("\n").filter((line) => line.trim()).pop() || "unknown error";
}
