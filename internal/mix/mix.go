// Package mix holds the 64-bit finalizer of SplitMix64, which spreads
// every input bit over every output bit. The needle index hashes its
// n-grams with it, and log sampling its record hashes.
package mix

// Mix64 returns the SplitMix64 finalizer of x. It is a bijection, so
// distinct inputs never collide.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
