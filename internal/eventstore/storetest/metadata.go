package storetest

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

type metadataCases struct {
	Series []struct {
		Name string `json:"name"`
		jsonSelector
		Want []map[string]string `json:"want"`
	} `json:"series"`
	LabelNames []struct {
		Name string `json:"name"`
		jsonSelector
		Want []string `json:"want"`
	} `json:"label_names"`
	LabelValues []struct {
		Name  string `json:"name"`
		Label string `json:"label"`
		jsonSelector
		Want []string `json:"want"`
	} `json:"label_values"`
	Stats []struct {
		Name string `json:"name"`
		jsonSelector
		Want struct {
			Streams uint64 `json:"streams"`
			Entries uint64 `json:"entries"`
			Bytes   uint64 `json:"bytes"`
		} `json:"want"`
	} `json:"stats"`
}

func loadMetadataCases(t testing.TB) metadataCases {
	t.Helper()
	var mc metadataCases
	readJSON(t, "metadata.json", &mc)
	return mc
}

func testSeries(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	for _, tc := range loadMetadataCases(t).Series {
		t.Run(tc.Name, func(t *testing.T) {
			sel := tc.selector(t)
			got, err := s.Series(t.Context(), sel.Kind, sel.Start, sel.End, sel.Matchers)
			require.NoError(t, err)
			want := []string{}
			for _, m := range tc.Want {
				want = append(want, labels.FromMap(m).String())
			}
			gotStr := []string{}
			for _, ls := range got {
				gotStr = append(gotStr, ls.String())
			}
			require.ElementsMatch(t, want, gotStr)
		})
	}
}

func testLabelNames(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	for _, tc := range loadMetadataCases(t).LabelNames {
		t.Run(tc.Name, func(t *testing.T) {
			sel := tc.selector(t)
			got, err := s.LabelNames(t.Context(), sel.Kind, sel.Start, sel.End, sel.Matchers)
			require.NoError(t, err)
			require.Equal(t, tc.Want, nonNil(got))
		})
	}
}

func testLabelValues(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	for _, tc := range loadMetadataCases(t).LabelValues {
		t.Run(tc.Name, func(t *testing.T) {
			sel := tc.selector(t)
			got, err := s.LabelValues(t.Context(), sel.Kind, tc.Label, sel.Start, sel.End, sel.Matchers)
			require.NoError(t, err)
			require.Equal(t, tc.Want, nonNil(got))
		})
	}
}

func testStats(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	for _, tc := range loadMetadataCases(t).Stats {
		t.Run(tc.Name, func(t *testing.T) {
			got, err := s.Stats(t.Context(), tc.selector(t))
			require.NoError(t, err)
			require.Equal(t, eventstore.Stats{Streams: tc.Want.Streams, Entries: tc.Want.Entries, Bytes: tc.Want.Bytes}, got)
		})
	}
}
