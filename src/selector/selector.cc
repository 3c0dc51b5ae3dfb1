// Placeholder until the selector parser lands.
