"""The Docker-free local runtime and CLI (`sgd`). Not deployed: Lambda gets only functions/ and layers/."""
