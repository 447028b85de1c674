package apt

import "testing"

func TestCompareLenient(t *testing.T) {
	if compareLenient("1.0", "not valid!") != 1 || compareLenient("not valid!", "1.0") != -1 {
		t.Error("invalid versions must sort lowest")
	}
	if compareLenient("1:1.0", "2.0") != 1 || compareLenient("1.0~rc1", "1.0") != -1 {
		t.Error("valid versions must sort in dpkg order")
	}
}
