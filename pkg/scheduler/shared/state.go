package shared

import (
	"k8s.io/client-go/rest"
)

// State is one scheduler's shared state: built once by the scheduler's
// setup, before any plugin, and passed to every Gantry plugin's factory.
// The scheduler builds a plugin instance per profile that enables it; what
// the instances know must be one for the whole scheduler (a GPU reserved
// by a pod of one profile must not be handed to a pod of another).
type State struct {
	Informers *Informers
}

// New builds the state for a scheduler talking to the API server at cfg.
func New(cfg *rest.Config) (*State, error) {
	inf, err := NewInformers(cfg)
	if err != nil {
		return nil, err
	}
	return &State{Informers: inf}, nil
}
