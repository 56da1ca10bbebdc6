package amtool

import "strings"

// treeNode is one line of a printed tree.
type treeNode struct {
	text     string
	children []*treeNode
}

// renderTree draws the tree under a "." line with box-drawing branches, the
// layout amtool prints. Each line, the last included, ends with a newline.
func renderTree(root *treeNode) string {
	var b strings.Builder
	b.WriteString(".\n")
	writeBranches(&b, []*treeNode{root}, "")
	return b.String()
}

func writeBranches(b *strings.Builder, nodes []*treeNode, indent string) {
	for i, n := range nodes {
		// The two no-break spaces after │ are what amtool prints.
		branch, next := "├── ", "│\u00a0\u00a0 "
		if i == len(nodes)-1 {
			branch, next = "└── ", "    "
		}
		b.WriteString(indent)
		b.WriteString(branch)
		b.WriteString(n.text)
		b.WriteByte('\n')
		writeBranches(b, n.children, indent+next)
	}
}
