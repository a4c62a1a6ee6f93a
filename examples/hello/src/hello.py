print("hello from imagespec")
