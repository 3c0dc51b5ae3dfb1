// brindlectl: the calicoctl equivalent.
int main() { return 0; }
