package elastic

import (
	"io"
	"net/http"
	"strings"
)

// The fixed identity this server reports.
const (
	clusterName = "lookout"
	clusterUUID = "bG9va291dC1jbHVzdGVy"
	nodeID      = "bG9va291dC1ub2RlMDAw"
	buildHash   = "lookout"
	buildDate   = "2025-01-01T00:00:00.000000000Z"
	licenseUID  = "6c6f6f6b-6f75-7420-6c69-63656e736530"
)

// info answers GET / (and HEAD /), which every client calls first to learn
// the version.
func (rc *Receiver) info(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":         clusterName,
		"cluster_name": clusterName,
		"cluster_uuid": clusterUUID,
		"version": map[string]any{
			"number":                              rc.version,
			"build_flavor":                        "default",
			"build_type":                          "docker",
			"build_hash":                          buildHash,
			"build_date":                          buildDate,
			"build_snapshot":                      false,
			"lucene_version":                      "9.12.0",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

// license answers GET /_license: an active basic license, which is what
// Beats and Logstash check before using ILM.
func (rc *Receiver) license(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"license": map[string]any{
		"status":               "active",
		"uid":                  licenseUID,
		"type":                 "basic",
		"issue_date":           buildDate,
		"issue_date_in_millis": 1735689600000,
		"max_nodes":            1000,
		"max_resource_units":   nil,
		"issued_to":            clusterName,
		"issuer":               "elasticsearch",
		"start_date_in_millis": -1,
	}})
}

// xpack answers GET /_xpack with the features agents look for.
func (rc *Receiver) xpack(w http.ResponseWriter, _ *http.Request) {
	feature := map[string]bool{"available": true, "enabled": true}
	writeJSON(w, http.StatusOK, map[string]any{
		"build":   map[string]string{"hash": buildHash, "date": buildDate},
		"license": map[string]string{"uid": licenseUID, "type": "basic", "mode": "basic", "status": "active"},
		"features": map[string]any{
			"ilm":          feature,
			"data_streams": feature,
			"monitoring":   map[string]bool{"available": true, "enabled": false},
			"security":     map[string]bool{"available": true, "enabled": false},
		},
		"tagline": "You know, for X",
	})
}

func (rc *Receiver) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"cluster_name":          clusterName,
		"status":                "green",
		"timed_out":             false,
		"number_of_nodes":       1,
		"number_of_data_nodes":  1,
		"active_primary_shards": 1,
		"active_shards":         1,
		"relocating_shards":     0,
		"initializing_shards":   0,
		"unassigned_shards":     0,
	})
}

// nodes answers GET /_nodes/… for clients that sniff: one node, published
// at the address the client used.
func (rc *Receiver) nodes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"_nodes":       map[string]int{"total": 1, "successful": 1, "failed": 0},
		"cluster_name": clusterName,
		"nodes": map[string]any{nodeID: map[string]any{
			"name":    clusterName,
			"host":    hostOnly(r.Host),
			"ip":      hostOnly(r.Host),
			"version": rc.version,
			"roles":   []string{"data", "ingest", "master"},
			"http":    map[string]any{"publish_address": r.Host},
		}},
	})
}

func hostOnly(hostport string) string {
	if i := strings.LastIndexByte(hostport, ':'); i > 0 && !strings.HasSuffix(hostport, "]") {
		return hostport[:i]
	}
	return hostport
}

// legacyTemplate answers GET /_template/<name>. Every template "exists", so
// agents do not try to install one on every start; a PUT is acknowledged
// and ignored, since Lookout does not map fields.
func (rc *Receiver) legacyTemplate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	writeJSON(w, http.StatusOK, map[string]any{name: map[string]any{
		"order":          0,
		"index_patterns": []string{name + "*"},
		"settings":       map[string]any{},
		"mappings":       map[string]any{},
		"aliases":        map[string]any{},
	}})
}

func (rc *Receiver) indexTemplate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	writeJSON(w, http.StatusOK, map[string]any{"index_templates": []any{map[string]any{
		"name": name,
		"index_template": map[string]any{
			"index_patterns": []string{name + "*"},
			"composed_of":    []string{},
			"template":       map[string]any{},
			"data_stream":    map[string]any{"hidden": false, "allow_custom_routing": false},
		},
	}}})
}

func (rc *Receiver) ilmPolicy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{r.PathValue("name"): map[string]any{
		"version":       1,
		"modified_date": buildDate,
		"policy": map[string]any{"phases": map[string]any{
			"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{}},
		}},
	}})
}

func (rc *Receiver) ingestPipeline(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{r.PathValue("name"): map[string]any{
		"description": "accepted and ignored by Lookout",
		"processors":  []any{},
	}})
}

// acknowledge answers a PUT of a template, policy or pipeline. The body is
// drained (up to the body limit) so the connection can be reused.
func (rc *Receiver) acknowledge(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, rc.maxBody))
	writeJSON(w, http.StatusOK, map[string]bool{"acknowledged": true})
}

// alias answers GET /_alias/<name>: every alias exists and points to one
// write index, so Logstash does not try to bootstrap it.
func (rc *Receiver) alias(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	writeJSON(w, http.StatusOK, map[string]any{name + "-000001": map[string]any{
		"aliases": map[string]any{name: map[string]bool{"is_write_index": true}},
	}})
}

// createIndex acknowledges PUT /<index>; indices are only a label here.
func (rc *Receiver) createIndex(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, rc.maxBody))
	writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": r.PathValue("index")})
}
