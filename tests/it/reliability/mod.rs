//! Issue 9: the whole sidecar under bad input, faults, slow clients and several replicas.

mod slow_clients;
