require "fileinto";
if size :over 387 { fileinto "o1"; }
if size :over 388 { fileinto "o2"; }
if size :under 388 { fileinto "u1"; }
if size :under 389 { fileinto "u2"; }
