// Placeholder until the datastore backends land.
