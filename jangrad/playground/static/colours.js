// The lab's colours, one palette for every panel: a class's colour is the colour of the side of the boundary that
// predicts it, and the network diagram's heatmaps and weights use the same two for "below 0" and "above 0".

export const CLASS_COLOURS = [[230, 126, 34], [41, 128, 185], [39, 174, 96], [142, 68, 173], [192, 57, 43]];
export const NEGATIVE = CLASS_COLOURS[0];   // orange: a negative weight, output or score (class 0's side)
export const POSITIVE = CLASS_COLOURS[1];   // blue: a positive one (class 1's side)

export function rgb([r, g, b]) { return `rgb(${r},${g},${b})`; }

// A value in [-1, 1] as a colour mixed with white: pale near 0, full at +-1 (at most `strength` of the colour).
export function diverging(value, strength = 0.85) {
  const v = Math.max(-1, Math.min(1, value || 0));
  const colour = v < 0 ? NEGATIVE : POSITIVE;
  const t = strength * Math.abs(v);
  return colour.map((c) => Math.round(255 + (c - 255) * t));
}

// base64 text of signed bytes (the server's pictures) as an Int8Array.
export function signedBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Int8Array(bytes.buffer);
}

// Fills `image` (an ImageData of n pixels) from n signed bytes starting at `offset`, each value/127 in [-1, 1].
export function paintDiverging(image, values, offset, strength = 0.85) {
  const data = image.data;
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    const [r, g, b] = diverging(values[offset + i] / 127, strength);
    data[4 * i] = r; data[4 * i + 1] = g; data[4 * i + 2] = b; data[4 * i + 3] = 255;
  }
}
