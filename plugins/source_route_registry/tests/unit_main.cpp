#define BOOST_TEST_MODULE route_registry_unit
#include <boost/test/unit_test.hpp>
