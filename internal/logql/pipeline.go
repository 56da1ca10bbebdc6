package logql

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/grafana/regexp"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/labelname"
)

// lineCtx is one record on its way through a pipeline.
type lineCtx struct {
	ts   int64
	line string
	lbs  lineLabels
}

// stageFunc processes a line in place and reports whether to keep it.
type stageFunc func(c *lineCtx) bool

// pipeline is a compiled list of stages. It is not safe for concurrent use:
// templates share per-pipeline scratch state.
type pipeline struct {
	stages []stageFunc
	tctx   *templateCtx
}

func (p *pipeline) process(c *lineCtx) bool {
	for _, s := range p.stages {
		if !s(c) {
			return false
		}
	}
	return true
}

func compilePipeline(stages []Stage, now func() time.Time) (*pipeline, error) {
	p := &pipeline{tctx: &templateCtx{now: now}}
	for _, s := range stages {
		f, err := p.compileStage(s)
		if err != nil {
			return nil, err
		}
		p.stages = append(p.stages, f)
	}
	return p, nil
}

func (p *pipeline) compileStage(s Stage) (stageFunc, error) {
	switch s := s.(type) {
	case *LineFilter:
		m, err := compileLineFilter(s)
		if err != nil {
			return nil, err
		}
		return func(c *lineCtx) bool { return m(c.line) }, nil
	case *LabelFilter:
		return compileLabelFilter(s.Expr), nil
	case *JSONParser:
		if len(s.Params) == 0 {
			return func(c *lineCtx) bool {
				if err := extractJSON(c.line, &c.lbs); err != nil {
					c.lbs.setErr(errJSON, err.Error())
				}
				return true
			}, nil
		}
		x := &jsonParamExtractor{}
		for _, prm := range s.Params {
			path, err := parseJSONPath(prm.Expr)
			if err != nil {
				return nil, fmt.Errorf("cannot parse expression [%s]: %w", prm.Expr, err)
			}
			x.names = append(x.names, prm.Name)
			x.paths = append(x.paths, path)
		}
		return func(c *lineCtx) bool {
			if err := x.extract(c.line, &c.lbs); err != nil {
				c.lbs.setErr(errJSON, err.Error())
			}
			return true
		}, nil
	case *LogfmtParser:
		return compileLogfmt(s), nil
	case *RegexpParser:
		re, names, err := compileRegexpParser(s.Regexp)
		if err != nil {
			return nil, err
		}
		return func(c *lineCtx) bool {
			m := re.FindStringSubmatch(c.line)
			for i, v := range m {
				if names[i] != "" {
					c.lbs.setParsed(names[i], v)
				}
			}
			return true
		}, nil
	case *PatternParser:
		pt, err := compilePattern(s.Pattern)
		if err != nil {
			return nil, err
		}
		return func(c *lineCtx) bool {
			pt.match(c.line, c.lbs.setParsed)
			return true
		}, nil
	case *UnpackParser:
		return func(c *lineCtx) bool {
			line, err := unpack(c.line, &c.lbs)
			if err != nil {
				c.lbs.setErr(errJSON, err.Error())
			}
			c.line = line
			return true
		}, nil
	case *LineFormat:
		tmpl, err := newTemplate("line", s.Template, p.tctx)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		return func(c *lineCtx) bool {
			p.tctx.line, p.tctx.ts = c.line, c.ts
			buf.Reset()
			if err := tmpl.Execute(&buf, c.lbs.toMap()); err != nil {
				c.lbs.setErr(errTemplateFormat, err.Error())
				return true
			}
			c.line = buf.String()
			return true
		}, nil
	case *LabelFormat:
		return p.compileLabelFormat(s)
	case *DropLabels:
		items := s.Items
		return func(c *lineCtx) bool {
			for _, it := range items {
				v, ok := c.lbs.get(it.Name)
				if ok && (it.Matcher == nil || it.Matcher.Matches(v)) {
					c.lbs.del(it.Name)
				}
			}
			return true
		}, nil
	case *KeepLabels:
		items := s.Items
		return func(c *lineCtx) bool {
			kept := c.lbs.ls[:0]
			for _, l := range c.lbs.ls {
				if l.name == errorLabel || l.name == errorDetailsLabel || keepItem(items, l) {
					kept = append(kept, l)
				}
			}
			c.lbs.ls = kept
			return true
		}, nil
	case *Decolorize:
		return func(c *lineCtx) bool {
			c.line = ansiRE.ReplaceAllString(c.line, "")
			return true
		}, nil
	}
	return nil, fmt.Errorf("BUG: unexpected stage %T", s)
}

func keepItem(items []LabelItem, l lbl) bool {
	for _, it := range items {
		if it.Name == l.name && (it.Matcher == nil || it.Matcher.Matches(l.value)) {
			return true
		}
	}
	return false
}

// ansiRE matches ANSI escape sequences (colour codes and terminal control).
var ansiRE = regexp.MustCompile("[\u001B\u009B][[\\]()#;?]*(?:(?:(?:[a-zA-Z\\d]*(?:;[a-zA-Z\\d]*)*)?\u0007)|(?:(?:\\d{1,4}(?:;\\d{0,4})*)?[\\dA-PRZcf-ntqry=><~]))")

func (p *pipeline) compileLabelFormat(s *LabelFormat) (stageFunc, error) {
	type op struct {
		dst, src string
		tmpl     *template.Template
	}
	ops := make([]op, len(s.Ops))
	needData := false
	for i, o := range s.Ops {
		ops[i] = op{dst: o.Dst, src: o.Src}
		if o.Template {
			t, err := newTemplate("label", o.Src, p.tctx)
			if err != nil {
				return nil, err
			}
			ops[i].tmpl = t
			needData = true
		}
	}
	var buf bytes.Buffer
	return func(c *lineCtx) bool {
		var data map[string]string
		if needData {
			data = c.lbs.toMap()
			p.tctx.line, p.tctx.ts = c.line, c.ts
		}
		for _, o := range ops {
			if o.tmpl == nil {
				if v, ok := c.lbs.get(o.src); ok {
					c.lbs.del(o.src)
					c.lbs.set(o.dst, v, catParsed)
				}
				continue
			}
			buf.Reset()
			if err := o.tmpl.Execute(&buf, data); err != nil {
				c.lbs.setErr(errTemplateFormat, err.Error())
				continue
			}
			c.lbs.set(o.dst, buf.String(), catParsed)
		}
		return true
	}, nil
}

func compileLogfmt(s *LogfmtParser) stageFunc {
	if len(s.Params) == 0 {
		return func(c *lineCtx) bool {
			err := scanLogfmt(c.line, s.Strict, func(kv logfmtPair) {
				if !kv.hasValue && !s.KeepEmpty {
					return
				}
				c.lbs.setParsed(labelname.Sanitize(kv.key), kv.value)
			})
			if err != nil {
				c.lbs.setErr(errLogfmt, err.Error())
			}
			return true
		}
	}
	want := map[string][]string{} // logfmt key → label names
	for _, prm := range s.Params {
		want[prm.Expr] = append(want[prm.Expr], prm.Name)
	}
	return func(c *lineCtx) bool {
		err := scanLogfmt(c.line, s.Strict, func(kv logfmtPair) {
			for _, name := range want[kv.key] {
				c.lbs.setParsed(name, kv.value)
			}
		})
		if err != nil {
			c.lbs.setErr(errLogfmt, err.Error())
		}
		return true
	}
}

// compileLineFilter returns a matcher for a line filter: or-ed values for
// the positive operators, none-may-match for the negative ones.
func compileLineFilter(f *LineFilter) (func(string) bool, error) {
	ms := make([]func(string) bool, 0, len(f.Values))
	for _, v := range f.Values {
		switch f.Op {
		case LineContains, LineNotContains:
			v := v
			ms = append(ms, func(s string) bool { return strings.Contains(s, v) })
		case LineMatchRegexp, LineNotMatchRegexp:
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, err
			}
			ms = append(ms, re.MatchString)
		case LineMatchPattern, LineNotMatchPattern:
			pt, err := compilePattern(v)
			if err != nil {
				return nil, err
			}
			ms = append(ms, func(s string) bool { return pt.match(s, nil) })
		}
	}
	neg := f.Op.negative()
	return func(s string) bool {
		for _, m := range ms {
			if m(s) {
				return !neg
			}
		}
		return neg
	}, nil
}

func compileLabelFilter(e LabelFilterExpr) stageFunc {
	switch e := e.(type) {
	case *LabelFilterBinary:
		l, r := compileLabelFilter(e.LHS), compileLabelFilter(e.RHS)
		if e.And {
			return func(c *lineCtx) bool {
				lok := l(c)
				rok := r(c)
				return lok && rok
			}
		}
		return func(c *lineCtx) bool { return l(c) || r(c) }
	case *LabelPredicate:
		if e.Kind == LabelString {
			m := e.Matcher
			name := e.Name
			return func(c *lineCtx) bool {
				v, _ := c.lbs.get(name)
				return m.Matches(v)
			}
		}
		return func(c *lineCtx) bool {
			if c.lbs.hasErr() {
				// Only string filters can drop a line that already failed.
				return true
			}
			v, ok := c.lbs.get(e.Name)
			if !ok {
				return false
			}
			x, err := convertLabelValue(e.Kind, v)
			if err != nil {
				c.lbs.setErr(errLabelFilter, err.Error())
				return true
			}
			return compare(e.Op, x, e.Value)
		}
	}
	panic(fmt.Sprintf("BUG: unexpected label filter %T", e))
}

func convertLabelValue(k LabelValueKind, v string) (float64, error) {
	switch k {
	case LabelDuration:
		d, err := time.ParseDuration(v)
		return float64(d), err
	case LabelBytes:
		b, err := parseBytesStrict(v)
		return float64(b), err
	}
	return strconv.ParseFloat(v, 64)
}

// parseBytesStrict is parseBytes with the errors of a failed number
// conversion, which is what users see in __error_details__.
func parseBytesStrict(v string) (uint64, error) {
	b, err := parseBytes(v)
	if err == nil {
		return b, nil
	}
	i := 0
	s := strings.TrimSpace(v)
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if _, ferr := strconv.ParseFloat(s[:i], 64); ferr != nil {
		return 0, ferr
	}
	return 0, fmt.Errorf("unhandled size name: %s", strings.TrimSpace(s[i:]))
}

func compare(op CmpOp, a, b float64) bool {
	switch op {
	case CmpEq:
		return a == b
	case CmpNeq:
		return a != b
	case CmpGt:
		return a > b
	case CmpGte:
		return a >= b
	case CmpLt:
		return a < b
	case CmpLte:
		return a <= b
	}
	return false
}

// extractor turns a record into a sample: it runs the pipeline, reads the
// value (1 for counting, the line length for bytes, or the unwrapped label)
// and returns the sample's labels in c.lbs.
type extractor struct {
	pre    *pipeline // stages before unwrap
	post   *pipeline // label filters after unwrap
	unwrap *Unwrap
	bytes  bool
}

// extract returns the value and whether the record yields a sample.
func (x *extractor) extract(c *lineCtx, r *event.Record) (float64, bool) {
	c.ts, c.line = r.Time, r.Body
	c.lbs.reset(r)
	if !x.pre.process(c) {
		return 0, false
	}
	if x.unwrap == nil {
		if x.bytes {
			return float64(len(c.line)), true
		}
		return 1, true
	}
	raw, ok := c.lbs.get(x.unwrap.Label)
	if !ok {
		return 0, false
	}
	v, err := convertUnwrap(x.unwrap.Conv, raw)
	if err != nil {
		c.lbs.setErr(errSampleExtraction, err.Error())
		v = 0
	}
	if !x.post.process(c) {
		return 0, false
	}
	c.lbs.del(x.unwrap.Label)
	return v, true
}

// newExtractor compiles the stages the store does not evaluate, split at
// unwrap, for range aggregation e.
func newExtractor(stages []Stage, e *RangeAggregationExpr, now func() time.Time) (*extractor, error) {
	x := &extractor{bytes: e.Op == OpBytesOverTime || e.Op == OpBytesRate}
	cut := len(stages)
	for i, s := range stages {
		if u, ok := s.(*Unwrap); ok {
			x.unwrap, cut = u, i
			break
		}
	}
	var err error
	if x.pre, err = compilePipeline(stages[:cut], now); err != nil {
		return nil, err
	}
	post := []Stage{}
	if cut < len(stages) {
		post = stages[cut+1:]
	}
	if x.post, err = compilePipeline(post, now); err != nil {
		return nil, err
	}
	return x, nil
}

func convertUnwrap(conv, s string) (float64, error) {
	switch conv {
	case "duration", "duration_seconds":
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		return d.Seconds(), nil
	case "bytes":
		b, err := parseBytesStrict(s)
		return float64(b), err
	}
	return strconv.ParseFloat(s, 64)
}
