"""What tasks add to compute/'s digits: publishing them to the shared store (scaled out),
the search over every stored place, and hex places derived from the decimal ones."""
