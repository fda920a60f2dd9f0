"""Every cap the playground server enforces, in one place, so a reviewer can see the whole attack surface at once.

The server only listens on 127.0.0.1, but any web page the learner visits can still send it requests; these
caps keep one request from tying up the machine.
"""

MAX_BODY_BYTES = 1024 * 1024  # a JSON request body; larger ones are refused (413) before they are read
BODY_SECONDS = 2.0  # for a body to arrive whole after its headers (400 "shorter than" otherwise)
MAX_CONNECTIONS = 32  # open connections, each with its thread; the next ones get 503 and are closed
IDLE_SECONDS = 15.0  # a connection that sends no request for this long is closed
# An expression-lab program's characters, syntax nodes and nesting are capped by jangrad.io.expr itself
# (MAX_SOURCE_CHARS = 2000, MAX_NODES, MAX_DEPTH), as for the command line.
MAX_SOURCE_LINES = 100
MAX_INPUTS = 50
MAX_EXPR_NODES = 300  # nodes in an expression-lab graph (it is drawn and stepped node by node)

MAX_TRAIN_STEPS = 5000  # the step limit of one training run
MAX_LAYERS = 6  # hidden layers
MAX_WIDTH = 32  # neurons per hidden layer
MAX_SAMPLES = 2000  # data points of a generated or uploaded data set
# Samples per step times the model's parameters: what one step costs. At this limit a step on the compiled tape takes
# about a third of a millisecond (the tape is traced from one sample's graph, in tens of milliseconds, when a run
# starts); the eager engine, which a page without NumPy uses, takes about half a second. The largest network (6
# layers of 32: 5,409 parameters) takes batches of up to 18 samples, the default one (6,6: 67 parameters) up to 1,492.
# The static site's worker, where every step is eager and in WebAssembly, allows less (jangrad/site/lab.py's
# BROWSER_STEP_WORK: 40,000, about 0.1 s a step).
MAX_STEP_WORK = 100_000
MAX_CSV_BYTES = 200 * 1024
MAX_FEATURES = 64
# A frame's pictures: the decision boundary is 48 x 48 predictions (24 x 24 in plain Python) and every unit's heatmap
# takes at most 16,384 values in all (pictures.py); a tick runs at most 40 ms of steps (api.WORK_SLICE).
MAX_SAMPLE_GRAPH_NODES = 1500  # a clicked sample's graph is drawn grouped by neuron (once), or refused above this
MAX_EVENT_STREAMS = 8  # concurrent server-sent-event connections (one per open tab, roughly)
