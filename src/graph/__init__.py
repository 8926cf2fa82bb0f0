"""Graph representations: Fortuin-Kasteleyn graphs and the configurations derived from them."""
