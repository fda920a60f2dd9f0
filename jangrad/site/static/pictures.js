// A training frame's pictures, drawn in the engine worker from the weights the frame's run has now: the decision
// boundary over the plane and every unit's heatmap, byte for byte as jangrad/playground/pictures.py draws them under
// `jangrad serve` (its plain-Python path: the same points, activations, scores, scales and signed-byte encoding).
// Python would take tens of milliseconds per frame in the browser; this takes a few, on the fine grid.
//
// drawPictures(inputs) takes Session.picture_inputs()'s {box, grid, heat, loss, standardize, leaky_slope, layers}
// and returns {boundary, heat, heat_scale} for the frame. It runs in a worker and in Node (the tests'), so it uses
// nothing of a page.

const SQRT_HALF = Math.sqrt(0.5);
const NOT_FINITE = {inf: Infinity, "-inf": -Infinity, nan: NaN};  // JSON has no such numbers: Python sends text

const number = (value) => (typeof value === "string" ? NOT_FINITE[value] ?? NaN : value);

// erf to about 1e-15: its Taylor series up to |x| = 3, the continued fraction of erfc beyond (JavaScript has none).
export function erf(x) {
  if (Number.isNaN(x)) return x;
  const size = Math.abs(x);
  if (size < 3) {
    let term = x;
    let sum = x;
    const square = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -square / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (size > 6) return Math.sign(x);
  let fraction = size;
  for (let n = 60; n >= 1; n--) fraction = size + (n / 2) / fraction;
  const erfc = Math.exp(-size * size) / (Math.sqrt(Math.PI) * fraction);
  return Math.sign(x) * (1 - erfc);
}

// The op table's forward rules (jangrad/ops.py), one per activation.
function activation(name, slope) {
  switch (name) {
    case "linear": return (z) => z;
    case "tanh": return Math.tanh;
    case "relu": return (z) => (z <= 0 ? 0 : z);
    case "leaky_relu": return (z) => (z <= 0 ? slope * z : z);
    case "sigmoid": return (z) => {
      if (z >= 0) return 1 / (1 + Math.exp(-z));
      const e = Math.exp(z);
      return e / (1 + e);
    };
    case "gelu": return (z) => z * (0.5 * (1 + erf(z * SQRT_HALF)));
    default: throw new Error(`no picture rule for the activation ${name}`);
  }
}

// size x size cell centres over box [x0, x1, y0, y1], row by row, the top row (largest y) first.
export function gridPoints([x0, x1, y0, y1], size) {
  const xs = Array.from({length: size}, (_, i) => x0 + ((x1 - x0) * (i + 0.5)) / size);
  const ys = Array.from({length: size}, (_, j) => y1 - ((y1 - y0) * (j + 0.5)) / size);
  return ys.flatMap((y) => xs.map((x) => [x, y]));
}

// Every layer's outputs at each point: per layer, one array of unit values per point.
function layerOutputs(layers, points, slope) {
  const outputs = [];
  let rows = points;
  for (const layer of layers) {
    const act = activation(layer.activation, slope);
    const weights = layer.weights.map((row) => row.map(number));
    const biases = layer.biases.map(number);
    rows = rows.map((row) => weights.map((w, j) => {
      let total = 0;
      for (let i = 0; i < w.length; i++) total += w[i] * row[i];
      return act(total + biases[j]);
    }));
    outputs.push(rows);
  }
  return outputs;
}

// Python's round(): halves to even.
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const rest = value - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

// pictures.encode: round(scale * v) clipped to [-127, 127] (nan as 0), as signed bytes, in base64.
export function encode(values, scale = 127) {
  let text = "";
  for (const v of values) {
    const byte = Number.isNaN(v) ? 0 : roundHalfEven(Math.max(-127, Math.min(127, scale * v)));
    text += String.fromCharCode(byte & 0xff);
  }
  return btoa(text);
}

// pictures.boundary_scores: a score in [-1, 1] for one output (its sign is the class), the class index for several.
function scores(outputs, loss) {
  return outputs.map((row) => {
    if (row.length > 1) {
      let best = 0;
      let top = -Infinity;
      row.forEach((v, k) => {
        const value = Number.isFinite(v) ? v : -Infinity;
        if (value > top) { top = value; best = k; }
      });
      return best;
    }
    const out = row[0];
    if (Number.isNaN(out)) return 0;
    if (loss === "bce") return Math.tanh(out / 2);
    return Math.max(-1, Math.min(1, out));
  });
}

// pictures._heat: a unit's values over the plane scaled into [-1, 1], and the scale (at least 1).
function heat(column) {
  let scale = 1;
  for (const v of column) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const values = column.map((v) => {
    if (Number.isFinite(v)) return v / scale;
    return Number.isNaN(v) ? 0 : Math.sign(v);
  });
  return {values, scale};
}

export function drawPictures({box, grid, heat: heatSize, loss, standardize, leaky_slope: slope, layers}) {
  const toModel = standardize
    ? (p) => p.map((x, i) => (x - standardize.mean[i]) / standardize.scale[i])
    : (p) => p;
  const gridInputs = gridPoints(box, grid).map(toModel);
  const heatInputs = gridPoints(box, heatSize).map(toModel);

  const outputs = layerOutputs(layers, gridInputs, slope).at(-1);
  const classes = outputs[0].length > 1;
  const boundary = encode(scores(outputs, loss), classes ? 1 : 127);

  const units = [];
  const scales = [];
  for (const rows of [heatInputs, ...layerOutputs(layers, heatInputs, slope)]) {
    for (let unit = 0; unit < rows[0].length; unit++) {
      const {values, scale} = heat(rows.map((row) => row[unit]));
      units.push(...values);
      scales.push(Number(scale.toFixed(4)));
    }
  }
  return {boundary, heat: encode(units), heat_scale: scales};
}
