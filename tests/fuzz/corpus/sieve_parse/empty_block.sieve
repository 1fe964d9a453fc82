if true { }
