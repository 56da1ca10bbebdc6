package logql

import (
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
)

// Labels that report pipeline errors, as in Loki.
const (
	errorLabel        = "__error__"
	errorDetailsLabel = "__error_details__"
)

// Error values of errorLabel, as in Loki.
const (
	errJSON             = "JSONParserErr"
	errLogfmt           = "LogfmtParserErr"
	errLabelFilter      = "LabelFilterErr"
	errSampleExtraction = "SampleExtractionErr"
	errTemplateFormat   = "TemplateFormatErr"
)

const extractedSuffix = "_extracted"

// category is where a label came from. Log query results keep the
// categories apart (Loki's categorize-labels encoding); metric queries merge
// them.
type category uint8

const (
	catStream category = iota
	catMeta            // structured metadata: record attributes and the level
	catParsed          // added by parsers and formatters
)

type lbl struct {
	name, value string
	cat         category
}

// lineLabels is the label set of one record as it passes the pipeline. It
// is a small unsorted slice: records carry few labels, and a linear scan
// beats a map at that size.
type lineLabels struct {
	ls []lbl
}

// reset loads the labels of r: its stream labels, its level as
// event.LevelLabel and its attributes as structured metadata. A metadata
// name that collides with a stream label gets the _extracted suffix.
func (b *lineLabels) reset(r *event.Record) {
	b.ls = b.ls[:0]
	r.Labels.Range(func(l labels.Label) {
		b.ls = append(b.ls, lbl{l.Name, l.Value, catStream})
	})
	if r.Level != "" {
		b.addMeta(event.LevelLabel, r.Level)
	}
	for _, a := range r.Attrs {
		if a.Key == event.LevelLabel && r.Level != "" {
			continue
		}
		b.addMeta(a.Key, a.Value)
	}
}

func (b *lineLabels) index(name string) int {
	for i := range b.ls {
		if b.ls[i].name == name {
			return i
		}
	}
	return -1
}

func (b *lineLabels) addMeta(name, value string) {
	if i := b.index(name); i >= 0 {
		if b.ls[i].cat != catStream {
			return // duplicate attribute: the first wins
		}
		name += extractedSuffix
		if b.index(name) >= 0 {
			return
		}
	}
	b.ls = append(b.ls, lbl{name, value, catMeta})
}

func (b *lineLabels) get(name string) (string, bool) {
	if i := b.index(name); i >= 0 {
		return b.ls[i].value, true
	}
	return "", false
}

// setParsed adds a label extracted by a parser. A name held by a stream
// label or structured metadata moves to name_extracted; an extracted name
// that is already set keeps its first value.
func (b *lineLabels) setParsed(name, value string) {
	i := b.index(name)
	if i >= 0 && b.ls[i].cat == catParsed {
		return
	}
	if i >= 0 {
		name += extractedSuffix
		if j := b.index(name); j >= 0 {
			if b.ls[j].cat == catParsed {
				return
			}
			b.ls[j] = lbl{name, value, catParsed}
			return
		}
	}
	b.ls = append(b.ls, lbl{name, value, catParsed})
}

// set assigns a label, replacing it in whatever category it was.
func (b *lineLabels) set(name, value string, cat category) {
	if i := b.index(name); i >= 0 {
		b.ls[i] = lbl{name, value, cat}
		return
	}
	b.ls = append(b.ls, lbl{name, value, cat})
}

func (b *lineLabels) del(name string) {
	if i := b.index(name); i >= 0 {
		b.ls = slices.Delete(b.ls, i, i+1)
	}
}

func (b *lineLabels) setErr(kind, details string) {
	b.set(errorLabel, kind, catParsed)
	b.set(errorDetailsLabel, details, catParsed)
}

func (b *lineLabels) hasErr() bool {
	v, ok := b.get(errorLabel)
	return ok && v != ""
}

// sorted returns the labels sorted by name in buf.
func (b *lineLabels) sorted(buf []lbl) []lbl {
	buf = append(buf[:0], b.ls...)
	slices.SortFunc(buf, func(x, y lbl) int { return strings.Compare(x.name, y.name) })
	return buf
}

// toMap returns the labels as template data.
func (b *lineLabels) toMap() map[string]string {
	m := make(map[string]string, len(b.ls))
	for _, l := range b.ls {
		m[l.name] = l.value
	}
	return m
}

// labelsOf builds labels.Labels from sorted labels of the wanted categories
// (all when cats is nil).
func labelsOf(sorted []lbl, keep func(category) bool) labels.Labels {
	sb := labels.NewScratchBuilder(len(sorted))
	for _, l := range sorted {
		if keep == nil || keep(l.cat) {
			sb.Add(l.name, l.value)
		}
	}
	return sb.Labels()
}

// appendKey appends an unambiguous encoding of sorted labels to dst, for use
// as a map key.
func appendKey(dst []byte, sorted []lbl, keep func(category) bool) []byte {
	for _, l := range sorted {
		if keep != nil && !keep(l.cat) {
			continue
		}
		dst = append(dst, l.name...)
		dst = append(dst, 0xff)
		dst = append(dst, l.value...)
		dst = append(dst, 0xfe)
	}
	return dst
}
