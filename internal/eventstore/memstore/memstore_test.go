package memstore_test

import (
	"testing"

	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/eventstore/memstore"
	"github.com/lookout-dev/lookout/internal/eventstore/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T, string) eventstore.Store { return memstore.New() })
}
