# Copyright: hypertopo contributors
# Apache-2.0
# Documentation only: the action plugin hypertopo_k8s_batches (plugins/action/) is the code.

DOCUMENTATION = r"""
module: hypertopo_k8s_batches
short_description: Run kubernetes.core.k8s over a list of definitions, several batches at once
description:
  - Cuts O(definition) into up to O(batches) contiguous parts and runs the C(kubernetes.core.k8s)
    module once per part, all parts at the same time. Every API request is the module's own; this
    plugin only starts several module processes and merges their results.
  - The result has the shape of one C(kubernetes.core.k8s) run over the whole list
    (C(result.results), one entry per definition, in order), plus C(batches), the part sizes.
  - Why it exists, C(kubernetes.core.k8s) sends its requests one after the other and its action
    plugin refuses C(async), so a list of thousands of definitions takes one round trip per object
    in sequence. Two to four batches overlap the client's CPU with the API server's.
  - Needs module pipelining on the connection (it is switched on for this task); when the
    connection cannot pipeline, the whole list runs as one batch.
  - Parts are never smaller than 64 definitions, so short lists run as one batch.
  - V(src) and V(template) are not supported; pass the objects in O(definition).
  - Retries (C(kubernetes.core) retries nothing itself), when
    O(kubernetes.core.k8s#module:continue_on_error) is set, the definitions
    whose answer was a conflict (409), throttling (429), a server error (500, 502, 503, 504) or no answer at
    all (connection refused while the API server restarts) run again, up to O(retries) more times, waiting
    O(retry_delay) seconds before the first retry and twice as long before each next one (at most
    O(retry_max_delay)). Each retry is a new module run over those definitions, so it reads each object
    again. Other answers (403, 404, 422, ...) are not retried. What still fails gets an error that starts
    with the answer and the number of attempts (C(HTTP 429 Too Many Requests, still after 5 attempts, ...)).
options:
  batches:
    description: The most module runs at once.
    type: int
    default: 1
  retries:
    description: How many more attempts a definition with a retryable answer gets (0 = none).
    type: int
    default: 0
  retry_delay:
    description: Seconds to wait before the first retry; each next wait doubles.
    type: float
    default: 1.0
  retry_max_delay:
    description: The longest wait between two attempts, in seconds.
    type: float
    default: 8.0
  definition:
    description: The objects, as for C(kubernetes.core.k8s).
    type: list
    elements: dict
    required: true
  other options:
    description:
      - Every other option goes unchanged to each C(kubernetes.core.k8s) run
        (O(kubernetes.core.k8s#module:state), O(kubernetes.core.k8s#module:kubeconfig),
        O(kubernetes.core.k8s#module:context), O(kubernetes.core.k8s#module:continue_on_error),
        O(kubernetes.core.k8s#module:hidden_fields), ...).
    type: raw
notes:
  - O(kubernetes.core.k8s#module:kubeconfig) is passed to the module as given
    (no lookup in a role's C(files/)).
  - Supports check mode and diff mode exactly as C(kubernetes.core.k8s) does (each run gets them).
author: hypertopo contributors (@hypertopo)
"""

EXAMPLES = r"""
- name: Patch 8,000 Nodes, four module runs at once
  hypertopo.volcano.hypertopo_k8s_batches:
    batches: 4
    state: patched
    continue_on_error: true
    definition: "{{ node_patches }}"
  register: patched
"""

RETURN = r"""
result:
  description: C(results), one entry per definition in input order, as C(kubernetes.core.k8s) returns them.
  type: dict
  returned: always
flagged:
  description:
    - Positions (0-based) of the definitions whose result carries an C(error) or C(warnings) (for
      O(kubernetes.core.k8s#module:state=patched), a vanished object is a warning). Empty when every
      definition went through cleanly.
  type: list
  elements: int
  returned: always
  sample: [17]
retried:
  description:
    - One entry per retry round, the wait before it, how many definitions ran again and the answers they
      had. Empty when nothing was retried.
  type: list
  elements: dict
  returned: always
  sample: [{"wait": 1.0, "count": 3, "answers": ["HTTP 429 Too Many Requests"]}]
batches:
  description: The number of definitions in each batch that ran.
  type: list
  elements: int
  returned: always
  sample: [2048, 2048, 2048, 2048]
"""
