"""Docker-free Lambda runner: the function's zip and layers, a matching Python, the runtime SDK."""
