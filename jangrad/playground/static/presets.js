// The network lab's presets: a few setups worth seeing, each with the one thing to watch. Choosing one fills the
// form (and the pace), so its link in the URL is an ordinary configuration a teacher can share.

const BASE = {
  data: "moons", samples: "100", noise: "0.1", seed: "0", test: "0", layers: "6,6", activation: "tanh",
  output: "linear", loss: "hinge", optimizer: "sgd", lr: "0.1", schedule: "none", batch: "0", steps: "300",
};

export const NETWORK_PRESETS = {
  lecture: {
    title: "the lecture's network",
    fields: {...BASE, data: "seed4", layers: "4,4", output: "tanh", loss: "sse", lr: "0.05", steps: "100"},
    pace: "10",
    note: "MLP(3, [4, 4, 1]) on the lecture's four samples, tanh everywhere, the sum of squared errors and plain " +
      "gradient descent at 0.05: the loss falls from about 7.7 to almost 0. Click a weight to follow it.",
  },
  micrograd: {
    title: "micrograd's moons demo",
    fields: {...BASE, layers: "16,16", activation: "relu", lr: "0.5", schedule: "linear", steps: "200"},
    pace: "50",
    note: "The demo of micrograd's README: two layers of 16 relu units, the max-margin (hinge) loss and a " +
      "learning rate that falls to 0. Hover the units: each has learned its own piece of the boundary.",
  },
  "high-lr": {
    title: "too high a learning rate",
    fields: {...BASE, loss: "mse", lr: "0.6"},
    pace: "5",
    note: "Each step overshoots: the loss jumps up and down, then blows up and the run stops. Try 0.1.",
  },
  "relu-dying": {
    title: "relu dying",
    fields: {...BASE, layers: "8,8", activation: "relu", lr: "5"},
    pace: "10",
    note: "One big step pushes most relu units below 0 for every sample: their heatmaps go blank, their " +
      "gradient is 0, so they never come back. The loss sticks at 1. Try lr 0.5.",
  },
  "xor-linear": {
    title: "no hidden layer cannot do xor",
    fields: {...BASE, data: "xor", layers: "", steps: "200"},
    pace: "20",
    note: "Without a hidden layer the network is a straight line, and no line separates xor: the loss stays at " +
      "1 and at most 3 of 4 points are right. Type 4 into hidden layers and play again.",
  },
};
