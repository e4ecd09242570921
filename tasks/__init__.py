"""Tasks: the service that pages and the JSON API call (submit, cancel, read, search),
over the task store, the runners that compute queued tasks, and what tasks add to compute/'s digits."""
