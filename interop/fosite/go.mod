module github.com/iqm-finland/authschema/interop/fosite

go 1.26.8

replace github.com/iqm-finland/authschema => ../..
