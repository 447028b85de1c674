package rpm

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// capNames are the Linux capabilities by number (linux/capability.h).
var capNames = []string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
	"cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner", "cap_sys_module",
	"cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct", "cap_sys_admin", "cap_sys_boot",
	"cap_sys_nice", "cap_sys_resource", "cap_sys_time", "cap_sys_tty_config", "cap_mknod", "cap_lease",
	"cap_audit_write", "cap_audit_control", "cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog",
	"cap_wake_alarm", "cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
}

// capXattr is the extended attribute that holds file capabilities.
const capXattr = "security.capability"

// encodeCaps turns a file capability in the text form rpm records
// (FILECAPS, as cap_to_text writes it: "cap_net_raw=ep",
// "cap_net_admin,cap_net_raw+ep") into the binary vfs_cap_data (revision
// 2) the kernel reads from security.capability. "" gives nil.
func encodeCaps(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	var perm, inh uint64
	effective := false
	for _, clause := range strings.Fields(text) {
		i := strings.IndexAny(clause, "=+-")
		if i < 0 {
			return nil, fmt.Errorf("file capability %q: clause %q has no operator", text, clause)
		}
		names, ops := clause[:i], clause[i:]
		var bits uint64
		if names == "" || names == "all" {
			bits = 1<<uint(len(capNames)) - 1
		} else {
			for _, n := range strings.Split(names, ",") {
				idx := -1
				for j, c := range capNames {
					if c == strings.ToLower(n) {
						idx = j
					}
				}
				if idx < 0 {
					return nil, fmt.Errorf("file capability %q: unknown capability %q", text, n)
				}
				bits |= 1 << uint(idx)
			}
		}
		op := byte(0)
		for k := 0; k < len(ops); k++ {
			c := ops[k]
			switch c {
			case '=', '+', '-':
				op = c
				if c == '=' {
					perm &^= bits
					inh &^= bits
				}
			case 'e', 'p', 'i':
				set := op != '-'
				switch c {
				case 'p':
					perm = setBits(perm, bits, set)
				case 'i':
					inh = setBits(inh, bits, set)
				case 'e':
					effective = set
				}
			default:
				return nil, fmt.Errorf("file capability %q: unknown flag %q", text, c)
			}
		}
	}
	out := make([]byte, 20)
	magic := uint32(0x02000000) // VFS_CAP_REVISION_2
	if effective {
		magic |= 1 // VFS_CAP_FLAGS_EFFECTIVE
	}
	binary.LittleEndian.PutUint32(out[0:], magic)
	binary.LittleEndian.PutUint32(out[4:], uint32(perm))
	binary.LittleEndian.PutUint32(out[8:], uint32(inh))
	binary.LittleEndian.PutUint32(out[12:], uint32(perm>>32))
	binary.LittleEndian.PutUint32(out[16:], uint32(inh>>32))
	return out, nil
}

// setBits sets or clears bits in v.
func setBits(v, bits uint64, set bool) uint64 {
	if set {
		return v | bits
	}
	return v &^ bits
}
