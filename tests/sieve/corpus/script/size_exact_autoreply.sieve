require "fileinto";
if size :over 192 { fileinto "o1"; }
if size :over 193 { fileinto "o2"; }
if size :under 193 { fileinto "u1"; }
if size :under 194 { fileinto "u2"; }
