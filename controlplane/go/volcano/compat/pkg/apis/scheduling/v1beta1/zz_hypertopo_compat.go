// Declarations that Volcano v1.15.1 uses from its in-tree volcano.sh/apis and
// that the newest volcano.sh/apis release served by the module proxy (v1.14.0)
// lacks. Written for hypertopo; see ../../../../README.md.

package v1beta1

// QueueAllocationGateKey names the pod scheduling gate (and the opt-in pod
// annotation) that Volcano uses for queue-capacity gating.
const QueueAllocationGateKey = GroupName + "/queue-allocation-gate"
