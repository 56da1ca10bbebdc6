package mix

import "testing"

func TestMix64(t *testing.T) {
	// SplitMix64 seeded with 0 first adds its increment, then mixes: its
	// first output is the published 0xe220a8397b1dcdaf.
	for _, c := range []struct{ in, want uint64 }{
		{0x9e3779b97f4a7c15, 0xe220a8397b1dcdaf},
		{1, 0x5692161d100b05e5},
		{0, 0},
	} {
		if got := Mix64(c.in); got != c.want {
			t.Errorf("Mix64(%#x) = %#x, want %#x", c.in, got, c.want)
		}
	}
}
