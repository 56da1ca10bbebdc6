package amtool

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
)

// ErrNotKeyValue is returned by ParseLabels for a label argument that parses
// as a matcher other than an equality, such as severity!=info.
var ErrNotKeyValue = errors.New("labels must be specified as key=value pairs")

// ErrReceiversMismatch is returned by VerifyReceivers when an alert is not
// routed to the expected receivers.
var ErrReceiversMismatch = errors.New("expected receivers did not match resolved receivers")

// LoadRoute loads an Alertmanager configuration file and returns its routing
// tree.
func LoadRoute(file string) (*dispatch.Route, error) {
	cfg, err := config.LoadFile(file)
	if err != nil {
		return nil, err
	}
	return dispatch.NewRoute(cfg.Route, nil), nil
}

// ParseLabels parses LABEL=VALUE arguments into a label set the way amtool
// does: each argument is parsed as one matcher by the UTF-8 matcher parser,
// falling back to the classic parser, and must be an equality. Later
// arguments override earlier ones with the same name. Fallbacks are logged
// as warnings on logger, which may be nil.
func ParseLabels(args []string, logger *slog.Logger) (model.LabelSet, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	parse := compat.FallbackMatcherParser(logger)
	ls := make(model.LabelSet, len(args))
	for _, arg := range args {
		m, err := parse(arg, "cli")
		if err != nil {
			return nil, fmt.Errorf("parse label %q: %w", arg, err)
		}
		if m.Type != labels.MatchEqual {
			return nil, fmt.Errorf("parse label %q: %w", arg, ErrNotKeyValue)
		}
		ls[model.LabelName(m.Name)] = model.LabelValue(m.Value)
	}
	return ls, nil
}

// Receivers returns the receivers of the routes an alert with labels ls is
// sent to, in the order of the routing tree. A receiver appears once per
// matching route, so it may appear more than once.
func Receivers(root *dispatch.Route, ls model.LabelSet) []string {
	var names []string
	for _, r := range root.Match(ls) {
		names = append(names, r.RouteOpts.Receiver)
	}
	return names
}

// VerifyReceivers checks that got, joined with commas, is want, as amtool's
// --verify.receivers does. An empty want accepts anything.
func VerifyReceivers(got []string, want string) error {
	if want == "" || want == strings.Join(got, ",") {
		return nil
	}
	return fmt.Errorf("%w: want %q, got %q", ErrReceiversMismatch, want, strings.Join(got, ","))
}

// WriteRoutes writes the whole routing tree to w as amtool config routes show
// does: each route's matchers, whether it continues, and its receiver.
func WriteRoutes(w io.Writer, root *dispatch.Route) error {
	_, err := fmt.Fprintf(w, "Routing tree:\n%s\n", renderTree(routeTree(root)))
	return err
}

// WriteMatchingRoutes writes the part of the routing tree an alert with labels
// ls travels through, as amtool config routes test --tree does; the routes
// where it stops show their receiver.
func WriteMatchingRoutes(w io.Writer, root *dispatch.Route, ls model.LabelSet) error {
	_, err := fmt.Fprintf(w, "Matching routes:\n%s\n\n", renderTree(matchingTree(root, ls)))
	return err
}

func routeTree(r *dispatch.Route) *treeNode {
	n := &treeNode{text: routeLabel(r, true, true)}
	for _, c := range r.Routes {
		n.children = append(n.children, routeTree(c))
	}
	return n
}

// matchingTree follows the routing decisions of dispatch.Route.Match: the
// first matching child wins unless it has continue set.
func matchingTree(r *dispatch.Route, ls model.LabelSet) *treeNode {
	n := &treeNode{}
	for _, c := range r.Routes {
		if !c.Matchers.Matches(ls) {
			continue
		}
		n.children = append(n.children, matchingTree(c, ls))
		if !c.Continue {
			break
		}
	}
	n.text = routeLabel(r, false, len(n.children) == 0)
	return n
}

func routeLabel(r *dispatch.Route, withContinue, withReceiver bool) string {
	var b strings.Builder
	if len(r.Matchers) == 0 {
		b.WriteString("default-route")
	} else {
		b.WriteString(r.Matchers.String())
	}
	if withContinue && r.Continue {
		b.WriteString("  continue: true")
	}
	if withReceiver {
		b.WriteString("  receiver: ")
		b.WriteString(r.RouteOpts.Receiver)
	}
	return b.String()
}
