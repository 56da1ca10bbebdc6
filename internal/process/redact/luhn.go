package redact

// A card number here is 13 to 19 digits, written together or in groups
// separated by single spaces or single dashes (one kind per number), that
// starts with 2–6 (the major-network ranges: Mastercard 2-series and 5,
// Amex/Diners/JCB 3, Visa 4, Discover/UnionPay/Maestro 6) and passes the
// Luhn check; a run of space-separated groups may hold a card number in some
// of its groups, a run of dash-separated ones (UUIDs, dates) only as a
// whole. The first-digit rule keeps Unix timestamps in milliseconds
// (13 digits) and nanoseconds (19 digits), which start with 1 until 2033,
// from being masked one time in ten. Digits right after '.' or '+', or right
// before '.' and a digit, belong to decimals and phone numbers and are not
// considered.
const (
	minCardDigits = 13
	maxCardDigits = 19
	maxGroups     = 19
)

type group struct{ start, end int }

// luhnRun reads the run of digit groups that starts at s[i], a digit not
// preceded by one, appends the card numbers in it and returns where the run
// ends.
func luhnRun(s string, i int, sp []span) ([]span, int) {
	j, _, _ := digitGroups(s, i, nil)
	if j-i < minCardDigits || i > 0 && (s[i-1] == '.' || s[i-1] == '+') || j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
		return sp, j // most runs, such as dates: no scratch space needed
	}
	var groups [maxGroups]group
	_, n, sep := digitGroups(s, i, &groups)
	if sep == '-' {
		// Dash-joined runs are also UUIDs, dates and phone numbers: only
		// a run that is a card as a whole counts.
		total := 0
		for _, g := range groups[:n] {
			total += g.end - g.start
		}
		if total >= minCardDigits && total <= maxCardDigits && isCard(s, groups[:n], total) {
			sp = append(sp, span{groups[0].start, groups[n-1].end})
		}
		return sp, j
	}
	return cardsIn(s, groups[:n], sp), j
}

// digitGroups reads the run of digit groups that starts at s[i], joined by
// single spaces or dashes (one kind per run), and returns where it ends,
// the number of groups and the separator. It records the groups in groups
// unless that is nil.
func digitGroups(s string, i int, groups *[maxGroups]group) (j, n int, sep byte) {
	j = i
	for {
		gs := j
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if groups != nil {
			groups[n] = group{gs, j}
		}
		n++
		if n == maxGroups || j+1 >= len(s) || !isDigit(s[j+1]) || (s[j] != ' ' && s[j] != '-') || (sep != 0 && s[j] != sep) {
			return j, n, sep
		}
		sep = s[j]
		j++
	}
}

// cardsIn finds, from each group on, the longest run of whole groups that is
// a card number.
func cardsIn(s string, groups []group, sp []span) []span {
	for a := 0; a < len(groups); a++ {
		best, total := -1, 0
		for b := a; b < len(groups); b++ {
			total += groups[b].end - groups[b].start
			if total > maxCardDigits {
				break
			}
			if total >= minCardDigits && isCard(s, groups[a:b+1], total) {
				best = b
			}
		}
		if best >= 0 {
			sp = append(sp, span{groups[a].start, groups[best].end})
			a = best
		}
	}
	return sp
}

func isCard(s string, groups []group, total int) bool {
	if first := s[groups[0].start]; first < '2' || first > '6' {
		return false
	}
	var digits [maxCardDigits]byte
	k := 0
	for _, g := range groups {
		k += copy(digits[k:], s[g.start:g.end])
	}
	return luhn(digits[:total])
}

// Luhn reports whether the digits in s pass the Luhn (mod 10) check. It
// returns false for an empty string or any non-digit.
func Luhn(s string) bool { return luhn(s) }

func luhn[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	sum := 0
	double := false
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if !isDigit(c) {
			return false
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
