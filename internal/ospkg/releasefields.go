package ospkg

// ReleaseFields reads a shell-style KEY=VALUE release file (os-release,
// lsb-release) as OS detection does: blank lines and # comments skipped,
// values unquoted. Patchers read the fields their repositories need
// (ID, VERSION_ID, VERSION_CODENAME) through it.
func ReleaseFields(data []byte) map[string]string { return parseKeyValues(data) }
