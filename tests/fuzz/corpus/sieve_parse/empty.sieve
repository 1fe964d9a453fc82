# nothing at all

