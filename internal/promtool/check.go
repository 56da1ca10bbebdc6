// Package promtool implements Lookout's promtool-compatible offline tools:
// checking rule files (promtool check rules) and running rule unit tests
// (promtool test rules). Both accept the same files as promtool and write a
// report in its layout to the writers they are given.
package promtool

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
)

// Lint checks accepted in CheckOptions.Lint, as promtool's --lint flag.
const (
	LintAll            = "all"
	LintDuplicateRules = "duplicate-rules"
	// LintLegacyNames reports recording rule, label and annotation names
	// that Prometheus 3 accepts but Prometheus 2 (and promtool 2.x)
	// rejects. It is a Lookout addition; "all" includes it.
	LintLegacyNames = "legacy-names"
	LintNone        = "none"
)

// DefaultLint is promtool's default for --lint.
const DefaultLint = LintDuplicateRules

// Verdict is the outcome of checking one or more rule files.
type Verdict int

const (
	// Valid means that every file parsed and passed the selected lints.
	Valid Verdict = iota
	// LintFailed means that every file is valid but a lint found problems.
	// promtool exits 0 for this, or 3 with --lint-fatal.
	LintFailed
	// Invalid means that at least one file has errors; promtool exits 1.
	Invalid
)

// ExitCode is the exit status promtool uses for v.
func (v Verdict) ExitCode(lintFatal bool) int {
	switch {
	case v == Invalid:
		return 1
	case v == LintFailed && lintFatal:
		return 3
	default:
		return 0
	}
}

// CheckOptions configures CheckRuleFiles and CheckRulesReader.
type CheckOptions struct {
	// Lint is a comma-separated list of lint checks (see the Lint*
	// constants). Empty runs none; promtool's default is DefaultLint.
	Lint string
	// IgnoreUnknownFields accepts unknown keys in rule files.
	IgnoreUnknownFields bool
	// Parser parses the rule expressions. Nil means the parser the
	// server's rules manager uses, parser.Options{}.
	Parser parser.Parser

	_ struct{}
}

// CheckRuleFiles checks each rule file as `promtool check rules` does:
// "Checking FILE" and the verdict go to stdout, failures to stderr.
func CheckRuleFiles(stdout, stderr io.Writer, opts CheckOptions, files ...string) Verdict {
	c := newChecker(stdout, stderr, opts)
	verdict := Valid
	for _, f := range files {
		fmt.Fprintln(stdout, "Checking", f)
		data, err := os.ReadFile(f)
		if err != nil {
			verdict = max(verdict, c.report(nil, []error{err}))
			continue
		}
		rgs, errs := c.parse(data)
		for i := range errs {
			errs[i] = fmt.Errorf("%s: %w", f, errs[i])
		}
		verdict = max(verdict, c.report(rgs, errs))
	}
	return verdict
}

// CheckRulesReader checks one rule file read from r, as promtool does when
// it is given no file names.
func CheckRulesReader(stdout, stderr io.Writer, r io.Reader, opts CheckOptions) Verdict {
	c := newChecker(stdout, stderr, opts)
	fmt.Fprintln(stdout, "Checking standard input")
	data, err := io.ReadAll(r)
	if err != nil {
		return c.report(nil, []error{fmt.Errorf("read standard input: %w", err)})
	}
	return c.report(c.parse(data))
}

type checker struct {
	stdout, stderr      io.Writer
	parser              parser.Parser
	ignoreUnknownFields bool
	duplicates          bool
	legacyNames         bool
}

func newChecker(stdout, stderr io.Writer, opts CheckOptions) *checker {
	c := &checker{
		stdout:              stdout,
		stderr:              stderr,
		parser:              opts.Parser,
		ignoreUnknownFields: opts.IgnoreUnknownFields,
	}
	if c.parser == nil {
		c.parser = parser.NewParser(parser.Options{})
	}
	for l := range strings.SplitSeq(opts.Lint, ",") {
		switch strings.TrimSpace(l) {
		case LintAll:
			c.duplicates, c.legacyNames = true, true
		case LintDuplicateRules:
			c.duplicates = true
		case LintLegacyNames:
			c.legacyNames = true
		case LintNone, "":
		default:
			fmt.Fprintf(stderr, "WARNING: unknown lint option: %q\n", l)
		}
	}
	return c
}

// parse parses and validates one rule file as the server does, with three
// changes to rulefmt's report: it drops repeated decoding errors (rulefmt
// decodes the file twice), fills in the group positions that it leaves at
// 0:0, and warns about a second YAML document only when the first one parsed.
func (c *checker) parse(data []byte) (*rulefmt.RuleGroups, []error) {
	rgs, errs := rulefmt.Parse(data, c.ignoreUnknownFields, model.UTF8Validation, c.parser, slog.New(slog.DiscardHandler))
	if rgs == nil {
		// Both of rulefmt's decodes failed, mostly with the same error.
		errs = slices.CompactFunc(errs, func(a, b error) bool { return a.Error() == b.Error() })
	}
	docs := yamlDocuments(data)
	if len(docs) > 1 && len(errs) == 0 {
		fmt.Fprintln(c.stderr, "  WARNING: the file has more than one YAML document; only the first is checked")
	}
	if rgs == nil || len(errs) == 0 || len(docs) == 0 {
		return rgs, errs
	}
	// Positions of the groups that rulefmt reports, in the order it does.
	pos := groupPositions(docs[0])
	var empty, repeated []string
	seen := map[string]bool{}
	for i, g := range rgs.Groups {
		p := "0:0"
		if i < len(pos) {
			p = pos[i]
		}
		if g.Name == "" {
			empty = append(empty, p)
		}
		if seen[g.Name] {
			repeated = append(repeated, p)
		}
		seen[g.Name] = true
	}
	pop := func(q *[]string) string {
		if len(*q) == 0 {
			return "0:0"
		}
		p := (*q)[0]
		*q = (*q)[1:]
		return p
	}
	for i, err := range errs {
		msg, ok := strings.CutPrefix(err.Error(), "0:0: ")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(msg, "Groupname must not be empty"):
			errs[i] = fmt.Errorf("%s: %s", pop(&empty), msg)
		case strings.HasPrefix(msg, "groupname: "):
			errs[i] = fmt.Errorf("%s: %s", pop(&repeated), msg)
		}
	}
	return rgs, errs
}

// yamlDocuments decodes the YAML documents of data, stopping at the first
// one that does not decode.
func yamlDocuments(data []byte) []*yaml.Node {
	var docs []*yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			return docs
		}
		docs = append(docs, &n)
	}
}

// groupPositions returns "line:column" of each item of the document's
// groups list.
func groupPositions(doc *yaml.Node) []string {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		if m[i].Value != "groups" || m[i+1].Kind != yaml.SequenceNode {
			continue
		}
		var out []string
		for _, g := range m[i+1].Content {
			out = append(out, fmt.Sprintf("%d:%d", g.Line, g.Column))
		}
		return out
	}
	return nil
}

// report prints the verdict for one parsed file.
func (c *checker) report(rgs *rulefmt.RuleGroups, errs []error) Verdict {
	defer fmt.Fprintln(c.stdout)
	if len(errs) > 0 {
		c.fail(errs)
		return Invalid
	}
	var findings []string
	if c.duplicates {
		findings = append(findings, duplicateRules(rgs)...)
	}
	if c.legacyNames {
		findings = append(findings, legacyNames(rgs)...)
	}
	if len(findings) > 0 {
		fmt.Fprintln(c.stderr, "  FAILED:")
		for _, f := range findings {
			fmt.Fprintln(c.stderr, "lint error", f)
		}
		return LintFailed
	}
	n := 0
	for _, g := range rgs.Groups {
		n += len(g.Rules)
	}
	fmt.Fprintf(c.stdout, "  SUCCESS: %d rules found\n", n)
	return Valid
}

func (c *checker) fail(errs []error) {
	fmt.Fprintln(c.stderr, "  FAILED:")
	for _, err := range errs {
		fmt.Fprintln(c.stderr, err)
	}
}

// duplicateRules reports rules of one file that would write the same
// series: the same record or alert name with the same labels. Prometheus
// loads them, but their results overwrite each other.
func duplicateRules(rgs *rulefmt.RuleGroups) []string {
	type rule struct {
		name string
		lset labels.Labels
	}
	var all []rule
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			name := r.Record
			if r.Alert != "" {
				name = r.Alert
			}
			all = append(all, rule{name: name, lset: rules.FromMaps(g.Labels, r.Labels)})
		}
	}
	cmp := func(a, b rule) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return labels.Compare(a.lset, b.lset)
	}
	slices.SortFunc(all, cmp)
	var dups []rule
	for i := 1; i < len(all); i++ {
		if cmp(all[i-1], all[i]) == 0 && (len(dups) == 0 || cmp(dups[len(dups)-1], all[i]) != 0) {
			dups = append(dups, all[i])
		}
	}
	if len(dups) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d duplicate rule(s) found.\n", len(dups))
	for _, d := range dups {
		fmt.Fprintf(&b, "Metric: %s\nLabel(s):\n", d.name)
		d.lset.Range(func(l labels.Label) { fmt.Fprintf(&b, "\t%s: %s\n", l.Name, l.Value) })
	}
	b.WriteString("Might cause inconsistency while recording expressions")
	return []string{b.String()}
}

// legacyNames reports names that only the UTF-8 name validation of
// Prometheus 3 accepts.
func legacyNames(rgs *rulefmt.RuleGroups) []string {
	var out []string
	checkLabels := func(where, kind string, m map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !model.LegacyValidation.IsValidLabelName(k) {
				out = append(out, fmt.Sprintf("%s: %s name %q is not a legacy Prometheus label name", where, kind, k))
			}
		}
	}
	for _, g := range rgs.Groups {
		checkLabels(fmt.Sprintf("group %q", g.Name), "label", g.Labels)
		for i, r := range g.Rules {
			where := fmt.Sprintf("group %q, rule %d, %q", g.Name, i+1, r.Record+r.Alert)
			if r.Record != "" && !model.LegacyValidation.IsValidMetricName(r.Record) {
				out = append(out, fmt.Sprintf("%s: recording rule name is not a legacy Prometheus metric name", where))
			}
			checkLabels(where, "label", r.Labels)
			checkLabels(where, "annotation", r.Annotations)
		}
	}
	return out
}
