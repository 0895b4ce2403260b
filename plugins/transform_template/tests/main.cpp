#define BOOST_TEST_MODULE transform_template
#include <boost/test/unit_test.hpp>
