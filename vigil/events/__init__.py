"""Events in the OLTP database: written live by the dataflow and reconciled by replays."""
