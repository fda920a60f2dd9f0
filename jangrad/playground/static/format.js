// How the page writes numbers: formatNumber for tables and readouts (6 significant digits), numberText for the
// drawings' boxes, exactly as jangrad's drawings and narration write them (Python's "%.4g", and "3.0" for 3).

export function formatNumber(x) {
  if (typeof x === "string") return x;            // "inf", "nan" from the server
  if (x === null || x === undefined) return "—";
  if (Number.isInteger(x)) return x.toFixed(1);
  const text = x.toPrecision(6);
  return String(Number(text));
}

export function numberText(x) {
  if (typeof x === "string") return x;
  if (!Number.isFinite(x)) return x > 0 ? "inf" : x < 0 ? "-inf" : "nan";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exponent] = x.toExponential(3).split("e");
  const e = Number(exponent);
  let text;
  if (e < -4 || e >= 4) {
    const digits = mantissa.replace(/\.?0+$/, "");
    text = `${digits}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  } else {
    text = x.toFixed(Math.max(0, 3 - e)).replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "");
  }
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}
